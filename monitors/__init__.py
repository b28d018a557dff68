"""Plain-Python analysis engine: no Django, no Celery; importable and benchmarkable alone.

For a watcher (one file changed):   postings, error = analyze_or_placeholder(path, data)
                                    delta = apply(store, path, postings)      # deleted: postings=None
For a batch scan:                   store, errors = scan_tree(root, ignore)   # store.all_questions()
Walking like the batch scan does:   monitors.walk.Walker(root, patterns).walk(), WATCHED_SUFFIXES
The tree's [tool.kloros]:           monitors.config.load(root)
Monitors by id:                     MONITORS["integration"]  (each module of this package that
                                    registers one; a question's bus signal: signal_of(monitor, hypothesis))
"""

from monitors.engine import (
    MemoryStore,
    Store,
    analyze,
    analyze_or_placeholder,
    apply,
    evaluate,
    placeholder,
    rebuild,
)
from monitors.facts import AnalysisError
from monitors.question import Delta, Question
from monitors.registry import MONITORS, discover, signal_of
from monitors.scan import WATCHED_SUFFIXES, iter_source_files, scan_tree
from monitors.version import ENGINE_VERSION

discover()  # import every module, so every @register has run

__all__ = [
    "ENGINE_VERSION",
    "MONITORS",
    "WATCHED_SUFFIXES",
    "AnalysisError",
    "Delta",
    "MemoryStore",
    "Question",
    "Store",
    "analyze",
    "analyze_or_placeholder",
    "placeholder",
    "apply",
    "evaluate",
    "iter_source_files",
    "rebuild",
    "scan_tree",
    "signal_of",
]
