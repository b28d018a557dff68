#!/usr/bin/env bash
# Installs the browser the Playwright tests drive: Debian's Chromium (Playwright cannot download
# its own here). Quiet and non-interactive; a no-op when chromium is already installed.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium >/dev/null 2>&1 || { echo "FATAL: chromium did not install" >&2; exit 1; }
