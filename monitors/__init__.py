"""Plain-Python analysis engine: no Django, no Celery; importable and benchmarkable alone."""

from monitors import integration  # noqa: F401  (registers the monitor)
from monitors.engine import MemoryStore, Store, analyze, apply, evaluate, rebuild
from monitors.facts import AnalysisError
from monitors.question import Delta, Question
from monitors.registry import MONITORS

__all__ = [
    "MONITORS",
    "AnalysisError",
    "Delta",
    "MemoryStore",
    "Question",
    "Store",
    "analyze",
    "apply",
    "evaluate",
    "rebuild",
]
