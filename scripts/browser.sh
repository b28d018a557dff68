#!/usr/bin/env bash
# Installs what the browser-level tests and pages need from Debian: Chromium for Playwright (which
# cannot download its own here) and Graphviz's `dot`, which lays out the channel map. Quiet and
# non-interactive; a no-op when both are installed.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  sudo=sudo
else
  sudo=
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v chromium >/dev/null 2>&1 || { echo "FATAL: chromium did not install" >&2; exit 1; }
command -v dot >/dev/null 2>&1 || { echo "FATAL: graphviz (dot) did not install" >&2; exit 1; }
