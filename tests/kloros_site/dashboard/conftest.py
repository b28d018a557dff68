from __future__ import annotations

import sys
from pathlib import Path

# helpers live next to this file; with --import-mode=importlib no test folder is on sys.path
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)

from operator_rows import live_workers, plain_static_storage, worker_probe  # noqa: E402, F401
