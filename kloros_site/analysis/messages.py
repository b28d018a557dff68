"""The analysis task's message contract: what the watcher sends and a worker needs, nothing more.

Kept apart from the services so the watcher, rescan and the admin can build messages without
loading the analysis engine.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

ANALYZE_FILE = "kloros.analyze_file"  # the registered task names: senders use these, never tasks/
ANALYZE_FILES = "kloros.analyze_files"  # several file versions in one message (a backlog)
EVALUATE_TREE = "kloros.evaluate_tree"
HELP_EVALUATE = "kloros.help_evaluate"


@dataclass(frozen=True)
class FileVersion:
    """One observed state of a file, as a task carries it: the worker needs nothing else."""

    root: str
    path: str  # relative to root, POSIX
    seq: int  # when the content was read, in ns: orders versions of one path
    sha256: str = ""
    size: int = 0
    mtime_ns: int = 0
    data: bytes | None = None
    deleted: bool = False
    reason: str = ""  # set by the reader when it could not send the content (too large, unreadable)
    detail: str = ""
    force: bool = False  # analyze even if this content was analyzed already (an operator asked)

    def to_message(self) -> dict:
        """JSON-safe task payload (Celery runs with the json serializer only)."""
        message = {k: v for k, v in self.__dict__.items() if k != "data"}
        message["data_b64"] = None if self.data is None else base64.b64encode(self.data).decode("ascii")
        return message

    @classmethod
    def from_message(cls, message: dict) -> FileVersion:
        fields = {k: v for k, v in message.items() if k != "data_b64"}
        encoded = message.get("data_b64")
        return cls(**fields, data=None if encoded is None else base64.b64decode(encoded))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
