#!/usr/bin/env bash
# The whole test suite: installs missing peers and dependencies, checks that generated
# code matches proto/, lints (ESLint with no warnings, Prettier), builds, then runs every
# spec (unit, integration, e2e) with Node's test runner over the compiled output — then the specs
# that use the collector's database once more on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash test/install-peers.sh
if [[ ! -d node_modules ]]; then
  echo "installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
fi
# The Windows Node.js that the single-file agent is made from (npm ci runs this too; no-op when present).
node scripts/windows-node/install.mjs
npm run --silent proto:check
npm run --silent lint
npm run --silent build
mapfile -t specs < <(find dist -name '*.spec.js' -not -path '*/node_modules/*' | sort)
# The TAP of each pass is kept too, so that the end of the output names every failure: a CI log is
# often read from its tail, and a failure in the first pass is thousands of lines above it.
logs=$(mktemp -d)
trap 'rm -rf "${logs}"' EXIT
# Prints each failing test's block (name, location, error, stack) from a TAP log, leaving out the
# suites that failed only because a test inside them did.
failures() {
  awk '
    /^ *not ok / { block = $0 "\n"; inblock = 1; next }
    inblock { block = block $0 "\n" }
    inblock && /^ *\.\.\.$/ { if (block !~ /subtestsFailed/) printf "%s", block; inblock = 0 }
  ' "$1" | head -n 400
}
# Runs one pass, its output shown as it comes and kept in $logs/$1.tap; returns node's exit status.
run_pass() {
  local name=$1
  shift
  set +e
  node --test --test-reporter=tap --test-concurrency=2 --test-timeout=300000 "$@" | tee "${logs}/${name}.tap"
  local status=${PIPESTATUS[0]}
  set -e
  return "${status}"
}
report() {
  local name
  for name in sqlite postgres; do
    [[ -s "${logs}/${name}.tap" ]] || continue
    echo "the ${name} pass: $(grep -E '^# (pass|fail|cancelled|skipped) ' "${logs}/${name}.tap" | sed 's/^# //' | paste -sd, -)"
    if grep -qE '^ *not ok ' "${logs}/${name}.tap"; then
      echo "=== failures in the ${name} pass ==="
      failures "${logs}/${name}.tap"
    fi
  done
}
echo "running ${#specs[@]} spec files"
# Each file is its own process; two at a time suits these 2-core machines.
sqlite_status=0
run_pass sqlite "${specs[@]}" "$@" || sqlite_status=$?

# The PostgreSQL pass (ROUNDS_TEST_POSTGRES=0 leaves it out): every spec that opens the collector's
# database — through the storage test helpers, the in-process web app or a collector process — runs
# again, each on a fresh database of one PostgreSQL server started here (test/peers/postgres.ts).
if [[ "${ROUNDS_TEST_POSTGRES:-1}" == 0 ]]; then
  report
  exit "${sqlite_status}"
fi
# Specs that need PostgreSQL whatever the pass (testPostgresServer: several collectors on one database)
# ran on it in the first pass already.
mapfile -t pg_specs < <(grep -l -E 'openTestDatabase|startWebTestApp|makeTestDatabase|startCollector\(' "${specs[@]}" | xargs -r grep -L 'testPostgresServer(')
read -r pg_url pg_dir < <(node dist/test/peers/postgres.js start)
trap 'node dist/test/peers/postgres.js stop "${pg_dir}"; rm -rf "${logs}"' EXIT
echo "running ${#pg_specs[@]} spec files again on PostgreSQL (${pg_url})"
pg_started=${SECONDS}
pg_status=0
ROUNDS_TEST_DATABASE=postgres ROUNDS_TEST_POSTGRES_URL="${pg_url}" \
  run_pass postgres "${pg_specs[@]}" "$@" || pg_status=$?
echo "the PostgreSQL pass took $((SECONDS - pg_started)) s"
report
if [[ ${sqlite_status} -ne 0 ]]; then exit "${sqlite_status}"; fi
exit "${pg_status}"
