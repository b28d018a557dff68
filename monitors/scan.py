"""Batch scanning: walk a tree, analyze every watched file, evaluate once.

Paths in the store are relative to the *import root*: the scanned directory, or the
directory above it when it is itself a package (has __init__.py), so that scanning
`site-packages/django` names modules `django.db...` exactly as the code imports them.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from monitors.config import Config, load
from monitors.engine import KeyLookup, MemoryStore, analyze_or_placeholder, rebuild
from monitors.facts import AnalysisError, module_name
from monitors.question import Question
from monitors.registry import MONITORS
from monitors.suppress import ALL, in_reference_roots, matching
from monitors.walk import SKIPPED_DIRS, WATCHED_SUFFIXES, Walker

__all__ = ["SKIPPED_DIRS", "WATCHED_SUFFIXES", "import_root", "iter_source_files", "scan_tree", "source_files",
           "unused_suppressions"]  # fmt: skip

Ignore = Callable[[str], bool]  # relative POSIX path (file or directory) -> skip it?


def import_root(root: Path) -> Path:
    root = root.resolve()
    while (root / "__init__.py").is_file() and root.parent != root:
        root = root.parent
    return root


def iter_source_files(
    root: Path, ignore: Ignore | None = None, patterns: Sequence[str] = ()
) -> Iterator[tuple[str, Path]]:
    """(relative POSIX path, absolute path) of every watched file under root, sorted.

    Relative paths start at import_root(root); the walk is monitors.walk's (.gitignore,
    hidden and skipped folders, `patterns`). `ignore` sees those relative paths for
    directories and files alike; returning True prunes a directory or skips a file.
    """
    return Walker(import_root(root), patterns).walk(root, prune=ignore)


def source_files(
    root: Path, config: Config, patterns: Sequence[str] = (), ignore: Ignore | None = None
) -> Iterator[tuple[str, Path]]:
    """What a batch scan of `root` reads: the tree's files, then those of reference folders
    outside it (named as `config.reference_roots` names them; a path the tree has wins)."""
    seen: set[str] = set()
    for rel, path in iter_source_files(root, ignore, (*config.ignore, *patterns)):
        seen.add(rel)
        yield rel, path
    for name, folder in sorted(config.extra.get("reference_dirs", {}).items()):
        for rel, path in Walker(Path(folder)).walk():
            if f"{name}/{rel}" not in seen:
                yield f"{name}/{rel}", path


@contextmanager
def gc_paused() -> Iterator[None]:
    """Building many ASTs with the cyclic GC on is several times slower; nothing here makes cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def scan_tree(
    root: Path, ignore: Ignore | None = None, config: Config | None = None, patterns: Sequence[str] = ()
) -> tuple[MemoryStore, dict[str, AnalysisError]]:
    """Analyze every watched file under root into a fresh MemoryStore and evaluate every key.

    `config` defaults to the tree's own (monitors.config.load of its import root); `patterns`
    are more gitignore-style patterns to leave out (the CLI's --exclude).

    Returns the store (questions via store.all_questions()) and {relative path: AnalysisError}
    for files that could not be analyzed (unreadable files get reason "unreadable"). Files that
    fail analysis still count as existing (engine.placeholder), as a watcher should treat them.
    """
    config = load(import_root(root)) if config is None else config
    store = MemoryStore()
    errors: dict[str, AnalysisError] = {}
    for rel, path in source_files(root, config, patterns, ignore):
        try:
            data = path.read_bytes()
        except OSError as exc:
            errors[rel] = AnalysisError("unreadable", str(exc))
            continue
        postings, error = analyze_or_placeholder(rel, data, config)
        store.replace_postings(rel, postings)
        if error is not None:
            errors[rel] = error
    rebuild(store, config)
    return store, errors


def unused_suppressions(store: MemoryStore, config: Config) -> list[Question]:
    """A question for every `kloros: ignore[...]` id that answered nothing (ruff's unused noqa).

    Only the keys whose questions read a suppression can have used one: those are asked
    again, without dropping, to see which comments matched.
    """
    keys = {key for key in store.keys() if key.startswith("suppress:")}  # noqa: SIM118 (a Store, not a dict)
    marks = sorted(key for key in keys if key.startswith("suppress:line:"))
    if not marks:
        return []
    used: set[tuple[str, int, str]] = set()
    for key in sorted(store.readers(keys)):
        monitor_id, local = key.split(":", 1)
        lookup = KeyLookup(store, monitor_id, key, config)
        for question in MONITORS[monitor_id].evaluate(local, lookup):
            if not in_reference_roots(question, config.reference_roots):
                used.update(matching(question, lookup))
    unused = []
    reference = tuple(f"{root}/" for root in config.reference_roots)
    for key in marks:
        for path, lines in store.postings(key).items():
            if reference and path.startswith(reference):
                continue  # read for references, never asked about
            for line, ids in lines.items():
                for name in ids:
                    if (path, int(line), name) in used:
                        continue
                    label = "kloros: ignore" if name == ALL else f"kloros: ignore[{name}]"
                    text = f"'{label}' answers no question here - remove it?"
                    unused.append(Question.make("suppress", "UNUSED_SUPPRESSION", f"{path}:{line}:{name}", text,
                                                [f"{path}:{line}"], "low", f"module.{module_name(path)}"))  # fmt: skip
    return unused
