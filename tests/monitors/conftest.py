import sys
from pathlib import Path

# With --import-mode=importlib nothing is put on sys.path: make the engine (a plain package
# at the repo root) and this directory's helper module importable however pytest is invoked.
HERE = Path(__file__).resolve().parent
for path in (str(HERE.parents[1]), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)
