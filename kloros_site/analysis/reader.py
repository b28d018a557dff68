"""Reading a file for analysis without ever leaving the watched root or blocking on odd files."""

from __future__ import annotations

import errno
import os
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from kloros_site.analysis.messages import FileVersion, sha256


def relative(root: Path, path: Path) -> str | None:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return None


def read_version(root: Path, path: Path, max_bytes: int) -> FileVersion:
    """The current state of `path`: content and hash, deleted, or a reason it cannot be sent."""
    rel = relative(root, path)
    if rel is None:
        raise ValueError(f"{path} is not under {root}")
    seq = time.time_ns()
    info = _stat(root, path)
    if isinstance(info, _Gone):
        return FileVersion(root=str(root), path=rel, seq=seq, deleted=True)
    if isinstance(info, _Refused):
        return FileVersion(root=str(root), path=rel, seq=seq, reason=info.reason, detail=info.detail)
    if not stat.S_ISREG(info.st_mode):
        # opening a FIFO would block the watcher forever
        return FileVersion(
            root=str(root), path=rel, seq=seq, reason="not_regular_file", detail="not a regular file"
        )
    if info.st_size > max_bytes:
        detail = f"{info.st_size} bytes is over the {max_bytes}-byte limit"
        return FileVersion(root=str(root), path=rel, seq=seq, reason="too_large", detail=detail)
    data = _read(path, max_bytes)
    if isinstance(data, _Gone):
        return FileVersion(root=str(root), path=rel, seq=seq, deleted=True)
    if isinstance(data, _Refused):
        return FileVersion(root=str(root), path=rel, seq=seq, reason=data.reason, detail=data.detail)
    return FileVersion(
        root=str(root),
        path=rel,
        seq=seq,
        sha256=sha256(data),
        size=len(data),
        mtime_ns=info.st_mtime_ns,
        data=data,
    )


class _Gone:
    """The file does not exist (any more)."""


@dataclass(frozen=True)
class _Refused:
    """The file is there but is not sent: why, for the file's row."""

    reason: str
    detail: str


def _stat(root: Path, path: Path) -> os.stat_result | _Gone | _Refused:
    """stat() of `path`, following a symlink only to a target inside `root`."""
    try:
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except FileNotFoundError:
                return _Refused("broken_symlink", f"symlink to {os.readlink(path)!r}, which does not exist")
            if relative(root, target) is None:
                return _Refused("outside_root", "symlink points outside the watched root; not followed")
        return path.stat()
    except FileNotFoundError:
        return _Gone()
    except RuntimeError:
        return _Refused("symlink_loop", "symlink loop")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _Refused("symlink_loop", "symlink loop")
        if exc.errno == errno.EACCES:
            return _Refused("unreadable", f"permission denied: {exc.strerror}")
        return _Refused("unreadable", exc.strerror or str(exc))


def _read(path: Path, max_bytes: int) -> bytes | _Gone | _Refused:
    """At most max_bytes of the file, without blocking on odd files."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        return _Gone()
    except PermissionError as exc:
        return _Refused("unreadable", f"permission denied: {exc.strerror}")
    except OSError as exc:
        return _Refused("unreadable", exc.strerror or str(exc))
    if len(data) > max_bytes:
        return _Refused("too_large", f"over the {max_bytes}-byte limit")
    return data
