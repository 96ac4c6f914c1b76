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
echo "running ${#specs[@]} spec files"
# Each file is its own process; two at a time suits these 2-core machines.
sqlite_status=0
node --test --test-concurrency=2 --test-timeout=300000 "${specs[@]}" "$@" || sqlite_status=$?

# The PostgreSQL pass (ROUNDS_TEST_POSTGRES=0 leaves it out): every spec that opens the collector's
# database — through the storage test helpers, the in-process web app or a collector process — runs
# again, each on a fresh database of one PostgreSQL server started here (test/peers/postgres.ts).
if [[ "${ROUNDS_TEST_POSTGRES:-1}" == 0 ]]; then exit "${sqlite_status}"; fi
# Specs that need PostgreSQL whatever the pass (testPostgresServer: several collectors on one database)
# ran on it in the first pass already.
mapfile -t pg_specs < <(grep -l -E 'openTestDatabase|startWebTestApp|makeTestDatabase|startCollector\(' "${specs[@]}" | xargs -r grep -L 'testPostgresServer(')
read -r pg_url pg_dir < <(node dist/test/peers/postgres.js start)
trap 'node dist/test/peers/postgres.js stop "${pg_dir}"' EXIT
echo "running ${#pg_specs[@]} spec files again on PostgreSQL (${pg_url})"
pg_started=${SECONDS}
pg_status=0
ROUNDS_TEST_DATABASE=postgres ROUNDS_TEST_POSTGRES_URL="${pg_url}" \
  node --test --test-concurrency=2 --test-timeout=300000 "${pg_specs[@]}" "$@" || pg_status=$?
echo "the PostgreSQL pass took $((SECONDS - pg_started)) s"
if [[ ${sqlite_status} -ne 0 ]]; then exit "${sqlite_status}"; fi
exit "${pg_status}"
