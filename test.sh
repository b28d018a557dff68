#!/usr/bin/env bash
# Runs the whole test suite on each stack: embedded (SQLite + filesystem broker),
# PostgreSQL + Redis, PostgreSQL + RabbitMQ. Installs what it needs into .venv first.
# Usage: ./test.sh [embedded|postgres-redis|postgres-rabbitmq ...] [-- pytest args]
set -euo pipefail
cd "$(dirname "$0")"
source scripts/bootstrap.sh

stacks=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do stacks+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#stacks[@]} -gt 0 ] || stacks=(embedded postgres-redis postgres-rabbitmq)

scripts/services.sh "${stacks[@]}"
scripts/browser.sh  # Debian's Chromium (Playwright tests) and Graphviz (the channel map)
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy          # types of kloros_site, tasks, monitors and bench ([tool.mypy] in pyproject.toml)
.venv/bin/lint-imports  # imports point one way ([tool.importlinter] in pyproject.toml)

status=0
for stack in "${stacks[@]}"; do
  state=$(mktemp -d "${TMPDIR:-/tmp}/kloros-test-$stack.XXXXXX")
  case "$stack" in
    embedded)          db="sqlite:///$state/db.sqlite3"; broker="filesystem://" ;;
    postgres-redis)    db="postgres://postgres@127.0.0.1:5432/kloros"; broker="redis://127.0.0.1:6379/9" ;;
    postgres-rabbitmq) db="postgres://postgres@127.0.0.1:5432/kloros"; broker="amqp://guest:guest@127.0.0.1:5672//" ;;
    *) echo "unknown stack: $stack" >&2; exit 2 ;;
  esac
  echo "=== stack: $stack ==="
  set +e
  KLR_SCREENSHOT_DIR="$state/screenshots" KLR_STATE_DIR="$state" DATABASE_URL="$db" CELERY_BROKER_URL="$broker" KLR_CHEMBUS_EXCHANGE=chembus-test \
    .venv/bin/python -m pytest -p no:cacheprovider "$@"
  code=$?
  set -e
  # exit code 5 means no test ran: that is a failure, never a pass
  if [ $code -ne 0 ]; then echo "=== stack $stack FAILED (pytest exit $code) ==="; status=1; fi
  rm -rf "$state"
done
exit $status
