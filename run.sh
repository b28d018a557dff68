#!/usr/bin/env bash
# Runs the analyzer on the embedded default (SQLite + kombu's filesystem broker, no server needed):
# watcher, worker, web UI (admin) and Flower, watching PATH (default: the current directory).
# Usage: ./run.sh [PATH ...]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
paths=()
for p in "${@:-$PWD}"; do paths+=("$(cd "$p" && pwd)"); done
cd "$here"
source scripts/bootstrap.sh
.venv/bin/python manage.py migrate --no-input -v 0
.venv/bin/python manage.py createadmin
.venv/bin/python manage.py collectstatic --no-input -v 0
exec .venv/bin/python manage.py up "${paths[@]}"
