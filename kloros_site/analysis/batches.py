"""Several file versions per analysis message: how they are cut into messages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from kloros_site.analysis.messages import FileVersion

T = TypeVar("T")


def chunks(
    pairs: Iterable[tuple[T, FileVersion]], per: int, max_bytes: int
) -> Iterator[list[tuple[T, FileVersion]]]:
    """Messages of at most `per` files and `max_bytes` of content (a bigger file alone), in order."""
    group: list[tuple[T, FileVersion]] = []
    size = 0
    for item, version in pairs:
        length = len(version.data or b"")
        if group and (len(group) >= per or size + length > max_bytes):
            yield group
            group, size = [], 0
        group.append((item, version))
        size += length
    if group:
        yield group


def full(group: list[tuple[T, FileVersion]], per: int, max_bytes: int) -> bool:
    """Whether a message is worth sending on its own: `per` files, or half its bytes allowance."""
    return len(group) >= per or sum(len(v.data or b"") for _, v in group) * 2 >= max_bytes
