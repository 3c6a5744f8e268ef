#!/usr/bin/env bash
# `npm start`, the main job on the bundled demo workspace:
#   build -> write the demo logs (every format) -> ingest them into SQLite ->
#   print the runs table -> open the demo in VS Code with the extension loaded
#   (desktop `code` if present; else say how to open it in a browser).
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/build.mjs
node dist/agent.js demo demo
node dist/agent.js runs --db demo/.runlens/runlens.db >/dev/null

if command -v code >/dev/null 2>&1 && [[ -z "${CI:-}" ]]; then
  echo "opening the demo in VS Code with RunLens loaded from $(pwd)"
  code --extensionDevelopmentPath="$(pwd)" "$(pwd)/demo" || echo "could not start VS Code; open ./demo with: code --extensionDevelopmentPath=$(pwd) demo"
else
  echo
  echo "No desktop VS Code (\`code\`) found. To see the demo in VS Code:"
  echo "  - desktop:  code --extensionDevelopmentPath=$(pwd) $(pwd)/demo"
  echo "  - browser:  npm run demo:browser   (VS Code in your browser at http://127.0.0.1:8080, from the npm registry)"
fi
