#!/usr/bin/env bash
# `npm test`: every test, from a fresh clone (after `npm install`/`npm ci`).
#  1. build + typecheck + lint (the lint config enforces the architecture)
#  2. unit and integration tests (node:test): store, protocol, readers on the
#     real corpus, the real agent process over stdio, the CLI, packaging
#     (incl. a real OCI registry and Docker engine they start themselves,
#     installed from Debian packages by scripts/setup-deploy-host.sh)
#  3. extension tests in a real VS Code host (code-server + Debian chromium),
#     installed from the npm registry and Debian packages by scripts/setup-vscode-host.sh
# Set RUNLENS_SKIP_HOST_TESTS=1 to skip step 3 (for quick local loops only).
set -euo pipefail
cd "$(dirname "$0")/.."
results=test-results
mkdir -p "$results"

if [[ "${RUNLENS_SKIP_HOST_TESTS:-}" != 1 ]]; then
  echo "== VS Code host tools (chromium, Node 24, code-server; cached after the first run)"
  bash scripts/setup-vscode-host.sh
fi

echo "== push/deploy tools (Debian docker.io and docker-registry; installed once)"
bash scripts/setup-deploy-host.sh

echo "== build and typecheck"
node scripts/build.mjs --tests
echo "== lint"
npx --no-install eslint src test bench webview

echo "== unit and integration tests"
unit_status=0
node --test --test-concurrency=2 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$results/node-tests.tap" \
  out/test/unit out/test/integration || unit_status=$?
unit_pass=$(grep -E '^# pass ' "$results/node-tests.tap" | awk '{print $3}')
unit_fail=$(grep -E '^# fail ' "$results/node-tests.tap" | awk '{print $3}')

host_pass=0
host_fail=0
host_status=0
if [[ "${RUNLENS_SKIP_HOST_TESTS:-}" == 1 ]]; then
  echo "== VS Code host tests SKIPPED (RUNLENS_SKIP_HOST_TESTS=1)"
else
  echo "== extension tests in a real VS Code host"
  node out/test/host/runHostTests.js || host_status=$?
  if [[ -f "$results/host-tests.json" ]]; then
    host_pass=$(node -p "require('./$results/host-tests.json').passed")
    host_fail=$(node -p "require('./$results/host-tests.json').failed")
  elif [[ $host_status != 0 ]]; then
    host_fail=1
  fi
fi

total_pass=$((unit_pass + host_pass))
total_fail=$((unit_fail + host_fail))
echo
echo "node tests: ${unit_pass} passed, ${unit_fail} failed; VS Code host tests: ${host_pass} passed, ${host_fail} failed"
echo "all: ${total_pass} passed, ${total_fail} failed"
if [[ $unit_status != 0 || $host_status != 0 || $total_fail != 0 ]]; then exit 1; fi
