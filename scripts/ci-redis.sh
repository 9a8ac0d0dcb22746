#!/usr/bin/env bash
# CI: makes sure Debian's redis-server is installed for the queue tests (test/runtime/queue and
# `npm run bench queue` start their own server on 127.0.0.1 on a free port; nothing else uses it).
set -euo pipefail
if ! command -v redis-server >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends redis-server
  # The package may start a system service on port 6379; the tests do not need it.
  $SUDO service redis-server stop >/dev/null 2>&1 || true
fi
redis-server --version
