#!/usr/bin/env bash
# Install Debian's chromium for the browser tests and `make screenshots` when it is missing.
# Playwright drives this browser; its own browser download cannot work offline. Needs root
# (or sudo) and apt-get; prints why and exits 1 when it cannot install.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-chromium: no apt-get on this machine: install chromium by hand" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "install-chromium: not root and no passwordless sudo: install chromium by hand" >&2
    exit 1
  fi
fi
echo "install-chromium: apt-get install chromium (about a minute)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null 2>&1
