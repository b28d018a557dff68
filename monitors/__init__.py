"""Plain-Python analysis engine: no Django, no Celery; importable and benchmarkable alone."""

from monitors import capability, exploration, integration, knowledge  # noqa: F401  (register monitors)
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
from monitors.registry import MONITORS
from monitors.scan import WATCHED_SUFFIXES, iter_source_files, scan_tree

__all__ = [
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
]
