"""Reading a file for analysis without ever leaving the watched root or blocking on odd files."""

from __future__ import annotations

import errno
import os
import stat
import time
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

    def failed(reason: str, detail: str) -> FileVersion:
        return FileVersion(root=str(root), path=rel, seq=seq, reason=reason, detail=detail)

    try:
        if path.is_symlink():
            try:
                target = path.resolve(strict=True)
            except FileNotFoundError:
                return failed("broken_symlink", f"symlink to {os.readlink(path)!r}, which does not exist")
            if relative(root, target) is None:
                return failed("outside_root", "symlink points outside the watched root; not followed")
        info = path.stat()
    except FileNotFoundError:
        return FileVersion(root=str(root), path=rel, seq=seq, deleted=True)
    except RuntimeError:
        return failed("symlink_loop", "symlink loop")
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return failed("symlink_loop", "symlink loop")
        if exc.errno == errno.EACCES:
            return failed("unreadable", f"permission denied: {exc.strerror}")
        return failed("unreadable", exc.strerror or str(exc))
    if not stat.S_ISREG(info.st_mode):
        # opening a FIFO would block the watcher forever
        return failed("not_regular_file", "not a regular file")
    if info.st_size > max_bytes:
        return failed("too_large", f"{info.st_size} bytes is over the {max_bytes}-byte limit")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        return FileVersion(root=str(root), path=rel, seq=seq, deleted=True)
    except PermissionError as exc:
        return failed("unreadable", f"permission denied: {exc.strerror}")
    except OSError as exc:
        return failed("unreadable", exc.strerror or str(exc))
    if len(data) > max_bytes:
        return failed("too_large", f"over the {max_bytes}-byte limit")
    return FileVersion(
        root=str(root),
        path=rel,
        seq=seq,
        sha256=sha256(data),
        size=len(data),
        mtime_ns=info.st_mtime_ns,
        data=data,
    )
