#!/usr/bin/env bash
# Installs what the push/deploy tests need, from Debian packages only:
#   - docker.io: a real Docker engine (dockerd); the tests start their own
#     engine on a private socket with its data root in a temp dir
#   - docker-registry: the CNCF distribution registry 2.8; the tests start
#     their own on 127.0.0.1 with storage in a temp dir
# Nothing is started here, and nothing listens after the tests end.
set -euo pipefail
need_apt=()
command -v dockerd >/dev/null || need_apt+=(docker.io)
command -v docker-registry >/dev/null || need_apt+=(docker-registry)
if ((${#need_apt[@]})); then
  echo "[deploy-setup] apt-get install ${need_apt[*]}"
  SUDO=""; [[ $(id -u) == 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
