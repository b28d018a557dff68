"""What an evaluation knows of a tree's read-sets and which keys ask questions, kept across its rounds.

Only an evaluation writes either (the runtime checks write questions of their own, under keys
the engine never evaluates), so while one evaluation holds the tree's evaluation lock what its
earlier rounds loaded or wrote is still true: the next round answers from it instead of asking
the database again (posting_memory.Carry checks the lock is still held). A cold scan of 10,000
files evaluates in 10 rounds; each asked again for the read-sets and questions of some 11,000
keys, mostly ones the rounds before had just written.
"""

from __future__ import annotations

from collections.abc import Iterable


class Known:
    def __init__(self) -> None:
        # key -> what it read, sorted: a tuple of one str per key name (the read-sets name the
        # same few thousand keys tens of thousands of times, each a new str as the engine builds
        # it; an empty tuple costs nothing, an empty set 216 bytes)
        self.reads: dict[str, tuple[str, ...]] = {}
        self.names: dict[str, str] = {}
        # once complete, the keys that have open questions: only theirs are loaded. The questions
        # themselves are not kept (a 10,000-file tree's would be some 40 MB); a round reads those
        # of the keys it evaluates
        self.asking: set[str] = set()
        # every read-set of the tree is here and `asking` is exact (a big batch loads both at
        # once): a key missing has no reads
        self.complete = False

    def name(self, name: str) -> str:
        return self.names.setdefault(name, name)

    def interned(self, names: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(self.names.setdefault(name, name) for name in set(names)))

    def readers(self, keys: set[str]) -> set[str]:
        """The keys whose read-set holds any of `keys` (when complete)."""
        return {key for key, reads in self.reads.items() if not keys.isdisjoint(reads)}
