"""What an evaluation knows of a tree's read-sets and which keys ask questions, kept across its rounds.

Only an evaluation writes either (the runtime checks write questions of their own, under keys
the engine never evaluates), so while one evaluation holds the tree's evaluation lock what it
learnt at its start or wrote since is still true: a round answers from it instead of asking the
database again (posting_memory.Carry checks the lock is still held).

A big batch learns, in one pass over the tree's read-sets, which keys have any and which read a
changed key, and in one query which keys have open questions. One round (a branch switch's)
keeps the read-sets of that pass. A big evaluation in rounds (rounds.py) evaluates each key
once, a round of keys at a time: a round loads the read-sets and questions of only those of its
keys that have some, and lets them go when it commits.
"""

from __future__ import annotations

from collections.abc import Iterable


class Known:
    def __init__(self, per_round: bool = False) -> None:
        """`per_round`: a big evaluation's, in rounds: the read-sets it learns at its start are not
        kept (a round loads those of its keys); otherwise (one round) they are kept, as its keys
        are read again right after."""
        self.per_round = per_round
        # key -> what it read, sorted: a tuple of one str per key name (the read-sets name the
        # same few thousand keys tens of thousands of times, each a new str as the engine builds
        # it; an empty tuple costs nothing, an empty set 216 bytes)
        self.reads: dict[str, tuple[str, ...]] = {}
        self.names: dict[str, str] = {}
        # once `complete`, the keys that have a read-set and those that have open questions: only
        # theirs are loaded. Neither the read-sets nor the questions themselves are kept across
        # rounds (a 10,000-file tree's are ~540,000 read-set entries and ~40 MB of questions)
        self.reading: set[str] = set()
        self.asking: set[str] = set()
        self.complete = False

    def name(self, name: str) -> str:
        return self.names.setdefault(name, name)

    def interned(self, names: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(self.names.setdefault(name, name) for name in set(names)))

    def next_round(self) -> None:
        """A round committed: its keys are evaluated, their read-sets and names are not needed again."""
        self.reads.clear()
        self.names.clear()
