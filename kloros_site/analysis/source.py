"""What a worker keeps of the content it analyzed: zlib-compressed, never more than the size bound.

Kept small and free of heavy imports: services.py calls `pack` on every analysis.
"""

from __future__ import annotations

import zlib

from django.conf import settings

LEVEL = 1  # fast (~3x on Python source); the call sits in the worker's hot path


def pack(data: bytes | None) -> bytes | None:
    """The stored form of `data`; None for no content or content over KLR_MAX_FILE_BYTES."""
    if data is None or len(data) > settings.KLR_MAX_FILE_BYTES:
        return None
    return zlib.compress(data, LEVEL)


def unpack(stored: bytes | memoryview | None) -> str | None:
    """The text of a stored source (undecodable bytes replaced), or None when none was kept."""
    if stored is None:
        return None
    data = zlib.decompress(bytes(stored), bufsize=64 * 1024)
    if len(data) > settings.KLR_MAX_FILE_BYTES:  # a row written under a larger bound
        data = data[: settings.KLR_MAX_FILE_BYTES]
    return data.decode("utf-8", errors="replace")
