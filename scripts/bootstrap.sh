# Sourced by run.sh and test.sh: a .venv with the pinned requirements, reinstalled when they change.
# The analyzer parses with the grammar of the interpreter it runs on, so the venv is built with the
# newest Python 3.11+ this machine has (PYTHON=... overrides): code written for 3.12 or 3.13 parses.
newest_python() {
  local minor candidate
  for minor in 15 14 13 12 11; do
    for candidate in "python3.$minor" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3."$minor".*/bin/python3."$minor"; do
      # a pyenv shim exists for versions that are installed but not selected: run it to be sure
      if "$candidate" -c 'import sys, venv; assert sys.version_info >= (3, 11)' >/dev/null 2>&1; then
        command -v "$candidate" 2>/dev/null || echo "$candidate"
        return 0
      fi
    done
  done
  return 1
}
PYTHON=${PYTHON:-$(newest_python || echo python3)}
if ! "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11)' 2>/dev/null; then
  echo "Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi
want_version=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ -x .venv/bin/python ] && [ "$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$want_version" ]; then
  echo "rebuilding .venv with Python $want_version ($PYTHON)" >&2
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.txt
  echo "$want" > "$stamp"
fi
