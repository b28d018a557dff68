"""A fingerprint of the analysis code: stored analyses made by other code are not reused."""

from __future__ import annotations

import hashlib
from pathlib import Path


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


ENGINE_VERSION = fingerprint()
