"""What an evaluation knows of a tree's postings: loaded in bulk, kept across its rounds.

A big batch (a cold scan's, a branch switch's) asks about keys all over the tree, each kind of
key in clusters, so it loads a kind at a time (`whole_tree`); a small one loads the keys it
names. Either way the postings do not depend on the round: an evaluation of 10,000 file
versions in 10 rounds loads each kind once, not 10 times (`refresh` says what changed meanwhile).
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection
from django.db.models import Count, F
from django.db.models.functions import Collate

from kloros_site.analysis.known import Known
from kloros_site.analysis.models import ChangedKeys, Posting, Tree
from kloros_site.analysis.postings import CHUNK, chunks

# a key more files than this post under is a hub (a common name, a big package): its postings
# are loaded only if a monitor asks for them, not merely whether it has any
HUB = 64
# a kind's keys are joined into strs of about this many characters (see Kind): a search reads
# one of them, and each costs a first key beside it (~50 bytes)
GROUP = 512
# answers a Kind remembers: a monitor asks about the same keys again and again (a clone key's
# postings are asked ~28 times in a 10,000-file cold scan), and a search costs ~20 dict lookups
RECENT = 256


def in_str_order(field: str) -> Collate | F:
    """ORDER BY as Python orders str (by code point): PostgreSQL's "C" collation, whatever the
    database's default; SQLite's default (BINARY, UTF-8 bytes) already is."""
    return Collate(F(field), "C") if connection.vendor == "postgresql" else F(field)


class Kind:
    """The keys of one kind of a big batch, each with the JSON text of its postings (or nothing,
    for a kind only asked whether a key has postings), in about the size of the text.

    A dict of str would cost ~110 bytes per key beside its text (two str headers and a table
    slot), more than the text of most keys: a 10,000-file tree's kinds are ~250,000 keys. Here the
    keys, without the kind's prefix, are sorted and joined into strs of about GROUP characters
    ("\0key\1text" each), a key found by bisecting the first keys of the strs and then a search
    in one of them (a clone key's text is ~430 characters: a str of 16 cost the search 7 KB).
    PostgreSQL text holds no NUL and JSON text no control character; a key that does (SQLite)
    is kept aside.
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._firsts: list[str] = []
        self._groups: list[str] = []
        self._pending: list[str] = []
        self._last: str | None = None
        self._sorted = True
        self._odd: dict[str, str] = {}
        self._recent: dict[str, str | None] = {}
        self._pending_chars = 0

    def add(self, key: str, text: str = "") -> None:
        """In str order for the compact form (`done` sorts them otherwise)."""
        rest = key[len(self.prefix) :]
        if "\0" in rest or "\1" in rest or "\0" in text:
            self._odd[rest] = text
            return
        if self._last is not None and rest <= self._last:
            self._sorted = False
        self._last = rest
        self._append(rest, text)

    def _append(self, rest: str, text: str) -> None:
        if not self._pending:
            self._firsts.append(rest)
        entry = f"\0{rest}\1{text}"
        self._pending.append(entry)
        self._pending_chars += len(entry)
        if self._pending_chars >= GROUP:
            self._groups.append("".join(self._pending))
            self._pending, self._pending_chars = [], 0

    def done(self) -> Kind:
        if self._pending:
            self._groups.append("".join(self._pending))
            self._pending, self._pending_chars = [], 0
        if not self._sorted:  # a database that did not return them in str order
            entries = sorted({e for group in self._groups for e in group.split("\0")[1:]})
            self._firsts, self._groups, self._sorted = [], [], True
            for entry in entries:
                rest, _, text = entry.partition("\1")
                self._append(rest, text)
            return self.done()
        return self

    def text(self, key: str) -> str | None:
        """The key's text, None if the kind has no such key."""
        if not self._groups and not self._odd:  # most asked: kinds nobody posts under (suppress:...)
            return None
        try:
            return self._recent[key]
        except KeyError:
            pass
        if len(self._recent) >= RECENT:
            self._recent.clear()
        found = self._recent[key] = self._search(key)
        return found

    def __contains__(self, key: str) -> bool:
        return self.text(key) is not None

    def _search(self, key: str) -> str | None:
        rest = key[len(self.prefix) :]
        i = bisect_right(self._firsts, rest) - 1
        if i >= 0:
            group, needle = self._groups[i], f"\0{rest}\1"
            at = group.find(needle)
            if at >= 0:
                start = at + len(needle)
                end = group.find("\0", start)
                return group[start:] if end < 0 else group[start:end]
        return self._odd.get(rest)


class PostingMemory:
    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._postings: dict[str, dict[str, Any]] = {}
        self._exists: dict[str, bool] = {}
        # a big batch: postings are loaded a kind at a time, and a key of a loaded kind that has
        # none has none (no whole-tree list of keys to hold beside them)
        self.whole_tree = False
        # a big batch's kinds, prefix -> each key's JSON text of its postings, decoded when asked
        # for. Decoded, a kind of a 10,000-file tree is several times bigger, and most keys of a
        # kind are never asked for. A key in `_postings` (read again by `forget`) is read there
        self._kinds: dict[str, Kind] = {}
        # kinds only asked whether a key has postings (so far): their keys alone. Most posting rows
        # are `used:<name>` markers, only ever asked with exists: their JSON would be the biggest
        # thing an evaluation holds (every file that uses a common name, under that name)
        self._listed: dict[str, Kind] = {}

    def forget(self, keys: Iterable[str]) -> None:
        """These keys' postings changed: read them again (the rest stays loaded)."""
        keys = set(keys)
        for key in keys:
            self._postings.pop(key, None)
            self._exists.pop(key, None)
        if self.whole_tree:
            # a key of a loaded or listed kind is answered by the kind as it was loaded: these are
            # read now, in bulk, and their answer takes precedence over the kind's
            known = self._kinds.keys() | self._listed.keys()
            self._load_postings([key for key in keys if self._kind_of(key) in known])

    def postings(self, key: str) -> dict[str, Any]:
        if key not in self._postings and self.whole_tree and (kind := self._load_kind(key)):
            text = kind.text(key)
            return {} if text is None else json.loads(text)
        if key not in self._postings:
            self._load_postings([key])
        return dict(self._postings[key])

    def exists(self, key: str) -> bool:
        if key in self._postings:
            return bool(self._postings[key])
        prefix = self._kind_of(key) if self.whole_tree else None
        if prefix in self._kinds:
            return key in self._kinds[prefix]
        if prefix is not None:
            if prefix not in self._listed:
                listed = Kind(prefix)
                keys = (
                    Posting.objects.filter(tree=self.tree, key__startswith=prefix)
                    .annotate(ordered=in_str_order("key"))
                    .values_list("ordered", flat=True)
                    .order_by("ordered")
                    .distinct()
                )
                for k in keys.iterator(chunk_size=5000):
                    listed.add(k)
                self._listed[prefix] = listed.done()
            return key in self._listed[prefix]
        if key not in self._exists:
            self._exists[key] = Posting.objects.filter(tree=self.tree, key=key).exists()
        return self._exists[key]

    def _load_postings(self, keys: list[str]) -> None:
        for chunk in chunks(keys):
            found: dict[str, dict[str, Any]] = {key: {} for key in chunk}
            rows = Posting.objects.filter(tree=self.tree, key__in=chunk).values_list(
                "key", "file__path", "payload"
            )
            for key, path, payload in rows:
                found[key][path] = payload
            self._postings.update(found)

    @staticmethod
    def _kind_of(key: str) -> str | None:
        monitor, kind, *rest = key.split(":", 2)
        return f"{monitor}:{kind}:" if rest else None

    def _load_kind(self, key: str) -> Kind | None:
        """Big batch: a key of this kind ("integration:class:") was asked for; more will be.

        None if the key is of no kind (it is loaded alone)."""
        prefix = self._kind_of(key)
        if prefix is None:
            return None
        if prefix in self._kinds:
            return self._kinds[prefix]
        kind = Kind(prefix)
        rows = (
            Posting.objects.filter(tree=self.tree, key__startswith=prefix)
            .order_by(in_str_order("key"), "file__path")
            .values_list("key", "file__path", "payload")
        )
        # a whole kind is up to a few hundred thousand rows: read past the ORM's per-row converters
        # (the payload comes as its JSON text), a key's rows joined into the JSON of its postings
        sql, params = rows.query.sql_with_params()
        current, parts = "", list[str]()
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(5000):
                for k, path, payload in batch:
                    if k != current:
                        self._keep_kind_key(kind, current, parts)
                        current, parts = k, []
                    parts.append(f"{json.dumps(path)}:{payload}")
        self._keep_kind_key(kind, current, parts)
        self._kinds[prefix] = kind.done()
        return kind

    def _keep_kind_key(self, kind: Kind, key: str, parts: list[str]) -> None:
        if parts and key not in self._postings:  # a key loaded before keeps its decoded postings
            kind.add(key, "{" + ",".join(parts) + "}")

    def load_small(self, keys: set[str]) -> None:
        """Whether each key has postings, and the postings themselves unless the key is a hub."""
        if self.whole_tree:
            return  # loaded a kind at a time, when asked for
        unknown = [k for k in keys if k not in self._postings]
        counts: dict[str, int] = {}
        for chunk in chunks(unknown):
            rows = Posting.objects.filter(tree=self.tree, key__in=chunk).values("key").annotate(n=Count("id"))
            counts.update((row["key"], row["n"]) for row in rows)
        for key in unknown:
            self._exists[key] = key in counts
            if key not in counts:
                self._postings[key] = {}
        self._load_postings([k for k, n in counts.items() if n <= HUB])


class Carry:
    """Hands one round's PostingMemory (refreshed) and Known to the next round of the same evaluation.

    Extraction runs meanwhile and writes postings without the tree lock, but each extraction
    that changes postings writes a ChangedKeys row in the same transaction, and only an
    evaluation deletes those rows. So at a round's start, under the tree lock, the rows present
    that the last round had not seen name every key whose postings may have changed since it
    loaded them (`forget`), as long as no other evaluation deleted rows in between: the rows the
    last round saw and left must all still be there, and no other evaluation may run between
    rounds (`exclusive`, see evaluation.evaluate_tree). Otherwise the round loads afresh.
    """

    def __init__(self, tree: Tree, exclusive: Callable[[], bool]) -> None:
        self.tree = tree
        self.exclusive = exclusive
        self._memory: PostingMemory | None = None
        self._known: Known | None = None
        self._left: set[int] = set()  # rows present at the last round's start
        self._present: set[int] = set()
        self.refreshed_keys = 0  # keys read again because an extraction changed them between rounds

    def take(self) -> tuple[PostingMemory, Known]:
        """At a round's start, inside its transaction and under the tree lock."""
        memory, self._memory = self._memory, None
        known, self._known = self._known, None
        exclusive = memory is not None and self.exclusive()
        self._present = set(ChangedKeys.objects.filter(tree=self.tree).values_list("id", flat=True))
        if memory is None or known is None or not exclusive or not self._left <= self._present:
            return PostingMemory(self.tree), Known(per_round=True)
        changed: set[str] = set()
        new = sorted(self._present - self._left)
        for ids in (new[i : i + CHUNK] for i in range(0, len(new), CHUNK)):
            for keys in ChangedKeys.objects.filter(id__in=ids).values_list("keys", flat=True):
                changed.update(keys)
        memory.forget(changed)
        self.refreshed_keys += len(changed)
        return memory, known  # extraction writes no read-set or question: nothing to refresh

    def keep(self, memory: PostingMemory, known: Known) -> None:
        """After the round committed (a round deletes no file version: the evaluation deletes
        them after its last round)."""
        known.next_round()
        self._memory, self._known = memory, known
        self._left = self._present
