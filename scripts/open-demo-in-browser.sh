#!/usr/bin/env bash
# VS Code in the browser (code-server, from the npm registry) on the demo
# workspace with RunLens loaded, for machines without desktop VS Code.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8080}"
bash scripts/setup-vscode-host.sh
CACHE="${RUNLENS_HOST_CACHE:-$HOME/.cache/runlens-host}"
NODE24="$(ls -d "$CACHE"/node-24*/bin | tail -1)"
CS="$(ls -d "$CACHE"/code-server-*/node_modules/.bin/code-server | tail -1)"
node scripts/package.mjs --out "$CACHE/runlens-demo.vsix" >/dev/null
PROFILE="$CACHE/demo-profile"
mkdir -p "$PROFILE/User"
# The agent needs the Node that built its native modules (this one), not code-server's Node 24.
printf '{ "runlens.agent.nodePath": "%s", "workbench.startupEditor": "none" }\n' "$(command -v node)" > "$PROFILE/User/settings.json"
PATH="$NODE24:$PATH" "$CS" --extensions-dir "$PROFILE/extensions" --user-data-dir "$PROFILE" --install-extension "$CACHE/runlens-demo.vsix" --force >/dev/null
echo "RunLens demo: open http://127.0.0.1:$PORT/?folder=$(pwd)/demo  (Ctrl+C to stop)"
EXTENSIONS_GALLERY='{"serviceUrl":""}' PATH="$NODE24:$PATH" exec "$CS" --auth none --bind-addr "127.0.0.1:$PORT" \
  --disable-telemetry --disable-update-check --disable-workspace-trust \
  --extensions-dir "$PROFILE/extensions" --user-data-dir "$PROFILE" "$(pwd)/demo"
