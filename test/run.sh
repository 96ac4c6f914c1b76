#!/usr/bin/env bash
# The whole test suite: installs missing peers and dependencies, checks that generated
# code matches proto/, lints (ESLint with no warnings, Prettier), builds, then runs every
# spec (unit, integration, e2e) with Node's test runner over the compiled output.
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
exec node --test --test-concurrency=2 --test-timeout=300000 "${specs[@]}" "$@"
