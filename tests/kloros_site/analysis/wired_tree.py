"""A small tree put through the real pipeline in this process (services.record), for the page tests."""

from __future__ import annotations

import time
from pathlib import Path

from kloros_site.analysis.messages import FileVersion, sha256
from kloros_site.analysis.models import Tree
from kloros_site.analysis.services import record

PRODUCER = '''"""Announces what happened."""

from bus import ChemPub


def announce():
    bus = ChemPub()
    bus.emit("curiosity.orphan_topic")
    bus.emit("curiosity.wired_topic")
'''

CONSUMER = '''"""Listens."""

from bus import ChemSub


def listen():
    ChemSub("curiosity.wired_topic")
    ChemSub("ghost.*")
'''

FILES = {"app/__init__.py": "", "app/producer.py": PRODUCER, "app/consumer.py": CONSUMER}


def ingest(root: Path, files: dict[str, str] | None = None) -> Tree:
    """Write `files` under root and record each through the pipeline, as a worker would."""
    for rel, text in (files or FILES).items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        data = text.encode()
        record(
            FileVersion(
                root=str(root), path=rel, seq=time.time_ns(), sha256=sha256(data), size=len(data), data=data
            )
        )
    return Tree.objects.get(path=str(root))
