#!/usr/bin/env bash
# Rounds in one command: installs dependencies, builds, then starts a local agent and a
# collector on the embedded default (SQLite), enrols the agent and adds a few demo checks
# through the collector's API, and prints the URL. State lives in .quickstart/ (delete it to
# start over). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
state="${ROUNDS_QUICKSTART_DIR:-${root}/.quickstart}"
mkdir -p "${state}"

step() { printf '\n==> %s\n' "$*"; }

if [[ ! -d node_modules ]]; then
  step "installing dependencies (npm ci; builds better-sqlite3, about 2 minutes on a fresh machine)"
  npm ci --no-audit --no-fund
fi
step "building"
npm run --silent build

# Prefer the documented ports; take a free one when another process holds them.
free_port() {
  node -e '
    const net = require("node:net");
    const want = Number(process.argv[1]);
    const tryListen = (port) => new Promise((ok) => { const s = net.createServer(); s.once("error", () => ok(null)); s.listen(port, "127.0.0.1", () => { const p = s.address().port; s.close(() => ok(p)); }); });
    (async () => { console.log((await tryListen(want)) ?? (await tryListen(0))); })();
  ' "$1"
}

export ROUNDS_DATA_DIR="${state}/data"
export ROUNDS_HTTP_PORT="${ROUNDS_HTTP_PORT:-$(free_port 8380)}"
collector="node ${root}/bin/rounds-collector.js"
agent="node ${root}/bin/rounds-agent.js"

if [[ ! -f "${state}/agent.yaml" ]]; then
  step "creating the local agent (token + self-signed certificate)"
  port=$(free_port 7443)
  ${agent} init --config "${state}/agent.yaml" --listen "127.0.0.1:${port}" | tee "${state}/agent-init.txt"
  # Let the demo agent run the stock Nagios load check when monitoring-plugins is installed.
  if [[ -x /usr/lib/nagios/plugins/check_load ]]; then
    printf 'nagios:\n  commands:\n    check_load:\n      path: /usr/lib/nagios/plugins/check_load\n      args: ["-r", "-w", "$ARG1$", "-c", "$ARG2$"]\n' >> "${state}/agent.yaml"
  fi
fi

step "starting the agent (log: ${state}/agent.log)"
${agent} start --config "${state}/agent.yaml" > "${state}/agent.log" 2>&1 &
agent_pid=$!
trap 'kill ${agent_pid} 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do grep -q 'listening on' "${state}/agent.log" && break; sleep 0.2; done
grep -q 'listening on' "${state}/agent.log" || { cat "${state}/agent.log"; echo "the agent did not start (see above)"; exit 1; }

step "starting the collector — open http://127.0.0.1:${ROUNDS_HTTP_PORT}/sign-in and sign in as admin (on the first start its password is printed below, once) — Ctrl-C stops Rounds"
# In the background and waited for, so that a SIGTERM to this script (a service manager, `timeout`,
# npm passing it on) stops both processes cleanly; Ctrl-C reaches them through the process group too.
${collector} start &
collector_pid=$!
trap 'kill ${collector_pid} ${agent_pid} 2>/dev/null || true; wait' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# The commands below talk to the running collector's API as its first admin: the collector writes
# its address and that admin's token to ${ROUNDS_DATA_DIR}/cli-credentials.json when it starts.
answered=no
for _ in $(seq 1 120); do
  agents=$(${collector} agent list --output json 2> "${state}/cli-error.txt") && { answered=yes; break; }
  kill -0 ${collector_pid} 2>/dev/null || { echo "the collector stopped (see above)"; exit 1; }
  sleep 0.5
done
[[ ${answered} == yes ]] || { cat "${state}/cli-error.txt"; echo "the collector did not answer its API within a minute (see above)"; exit 1; }
if ! grep -q '"name": "local"' <<< "${agents}"; then
  step "enrolling the agent and adding demo checks (through the collector's API)"
  ${collector} agent add --name local --enrol "$(tail -1 "${state}/agent-init.txt")"
  ${collector} check add --agent local --name "collector web UI" --plugin http \
    --config "{\"url\":\"http://127.0.0.1:${ROUNDS_HTTP_PORT}/healthz\",\"bodyContains\":\"ok\"}" --interval 30s
  ${collector} check add --agent local --name "collector port" --plugin tcp \
    --config "{\"host\":\"127.0.0.1\",\"port\":${ROUNDS_HTTP_PORT}}" --interval 30s
  ${collector} check add --agent local --name "this host" --plugin host-metrics --config '{}' --interval 30s
  if grep -q check_load "${state}/agent.yaml"; then
    ${collector} check add --agent local --name "load (nagios)" --plugin nagios \
      --config '{"command":"check_load","args":["4,3,2","8,6,4"]}' --interval 60s
  fi
fi
step "Rounds runs: http://127.0.0.1:${ROUNDS_HTTP_PORT}/sign-in — from another shell: ROUNDS_DATA_DIR=${ROUNDS_DATA_DIR} node bin/rounds-collector.js check list"
wait ${collector_pid}
