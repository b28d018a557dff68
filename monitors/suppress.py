"""`# kloros: ignore[HYPOTHESIS]`: questions a person has answered in the code itself.

A suppression comment sits on a line a question points at (one of its evidence lines), or
on the `def`/`class` line of the definition the question is about (its capability symbol),
or of the class that symbol belongs to:

    def legacy_hook(event):  # kloros: ignore[DEAD_CODE]
    bus.emit("audit.trail")  # kloros: ignore[ORPHANED_QUEUE, DEAD_CODE]
    import pkg.optional      # kloros: ignore            (every hypothesis)

In Markdown, reST and TOML / setup.cfg files the same words work in a comment
(`<!-- kloros: ignore[STALE_KNOWLEDGE] -->`, `.. kloros: ignore`, `# kloros: ignore`).

The comments are postings of their file under this module's own namespace ("suppress:"),
which asks no questions. The engine drops a question right after its monitor asks it when
a matching comment is found, reading those postings through the key's lookup, so adding or
removing a comment re-evaluates exactly the keys it concerns (incremental == batch), and
the watcher and workers honour suppressions as the batch CLI does. Questions whose evidence
lies wholly in reference folders (`config.reference_roots`) are dropped at the same step:
those files are read for references, never asked about.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable
from typing import Any, ClassVar, Protocol

from monitors.config import Config
from monitors.facts import FileFacts
from monitors.question import Question
from monitors.registry import Lookup, Monitor, Postings, register

ALL = "*"  # a bare `kloros: ignore`
DIRECTIVE = re.compile(r"(?:^|[\s#;])kloros:\s*ignore\b(?:\[([^\]]*)\])?")
MARKER = b"kloros:"
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
CODE_SPAN = re.compile(r"`[^`]*`")
HTML_COMMENT = re.compile(r"<!--(.*?)-->")

Marks = dict[int, tuple[str, ...]]  # line -> hypothesis ids (or ALL)


def directive_ids(text: str) -> tuple[str, ...] | None:
    """The hypotheses a comment's text suppresses; None when it holds no directive.

    Text in backticks is left out: a comment (or document) *about* suppressions quotes them.
    """
    ids: set[str] = set()
    found = False
    for match in DIRECTIVE.finditer(CODE_SPAN.sub("", text)):
        found = True
        listed = IDENTIFIER.findall(match.group(1) or "")
        if listed:
            ids.update(name.upper() for name in listed)
        else:
            ids.add(ALL)
    return tuple(sorted(ids)) if found else None


def scan_python(data: bytes) -> Marks:
    """Suppressions in the comments of Python source (not in strings: tokens tell them apart)."""
    if MARKER not in data:
        return {}  # nearly every file: no tokenizing
    marks: Marks = {}
    try:
        for token in tokenize.tokenize(io.BytesIO(data).readline):
            if token.type == tokenize.COMMENT and (ids := directive_ids(token.string)) is not None:
                marks[token.start[0]] = ids
    except (tokenize.TokenError, SyntaxError):
        pass  # the parser accepted the file; keep what was read
    return marks


def comments(line: str, suffix: str) -> list[str]:
    """The comment text on one line of a document or configuration file (code spans left out)."""
    line = CODE_SPAN.sub("", line)
    if suffix == ".md":
        return HTML_COMMENT.findall(line)
    if suffix in (".rst", ".txt"):
        return [line] if line.lstrip().startswith("..") else []
    start = min(
        (i for i in (line.find("#"), line.find(";") if suffix == ".cfg" else -1) if i != -1), default=-1
    )
    return [line[start:]] if start != -1 else []


def scan_text(text: str, suffix: str) -> Marks:
    """Suppressions in a document's comments (`<!-- -->`, reST `..`) or a configuration's (`#`)."""
    if MARKER.decode() not in text:
        return {}
    marks: Marks = {}
    for line, content in enumerate(text.splitlines(), 1):
        for comment in comments(content, suffix):
            if (ids := directive_ids(comment)) is not None:
                marks[line] = tuple(sorted(set(marks.get(line, ())) | set(ids)))
    return marks


@register
class Suppressions(Monitor):
    """Posts a file's suppression comments; asks nothing (the engine reads them to drop questions)."""

    id = "suppress"
    # no key kind is named "(none)": the engine evaluates none of these keys
    question_kinds: ClassVar[frozenset[str]] = frozenset({"(none)"})

    def postings(self, facts: FileFacts) -> Postings:
        if not facts.suppressions:
            return {}
        postings: Postings = {
            f"line:{facts.path}": {str(line): list(ids) for line, ids in sorted(facts.suppressions.items())}
        }
        for definition in facts.definitions:
            ids = facts.suppressions.get(definition.line)
            if ids:
                postings[f"def:{definition.qualname}"] = [definition.line, list(ids)]
        return postings

    def evaluate(self, key: str, lookup: Lookup) -> list[Question]:
        return []


class Reader(Protocol):
    """What dropping needs of a key's lookup: the config, and reads of any namespace's keys."""

    config: Config

    def read(self, key: str) -> dict[str, Any]:
        """{path: payload} under a full key ("suppress:line:a.py"), recorded as read."""


def split(evidence: str) -> tuple[str, int]:
    path, _, line = evidence.rpartition(":")
    return (path, int(line)) if line.isdigit() else (evidence, 0)


def matching(question: Question, lookup: Reader) -> list[tuple[str, int, str]]:
    """(path, line, id) of every suppression comment that answers `question`."""
    found: list[tuple[str, int, str]] = []
    lines: dict[str, list[int]] = {}
    for where in question.evidence:
        path, line = split(where)
        lines.setdefault(path, []).append(line)
    for path, numbers in lines.items():
        marks = lookup.read(f"suppress:line:{path}").get(path, {})
        for line in numbers:
            found += [(path, line, i) for i in marks.get(str(line), ()) if i in (ALL, question.hypothesis)]
    if question.capability_key.startswith("symbol."):
        symbol = question.capability_key[7:]
        for qualname in filter(None, dict.fromkeys((symbol, symbol.rpartition(".")[0]))):  # it, or its class
            for path, (line, ids) in lookup.read(f"suppress:def:{qualname}").items():
                found += [(path, line, i) for i in ids if i in (ALL, question.hypothesis)]
    return found


def in_reference_roots(question: Question, roots: Iterable[str]) -> bool:
    prefixes = tuple(f"{root}/" for root in roots)
    return bool(prefixes and question.evidence) and all(
        split(where)[0].startswith(prefixes) for where in question.evidence
    )


def drop_suppressed(questions: list[Question], lookup: Reader) -> list[Question]:
    """The questions still worth asking: not answered by a comment, not about reference files."""
    roots = lookup.config.reference_roots
    return [q for q in questions if not in_reference_roots(q, roots) and not matching(q, lookup)]
