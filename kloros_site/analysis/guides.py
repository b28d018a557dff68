"""What to do about each kind of question: a short guide per hypothesis, shown on its page."""

from __future__ import annotations

GUIDES: dict[str, list[str]] = {
    "ORPHANED_QUEUE": [
        "If something should react to this channel, subscribe to it there (or with a wildcard that matches it).",
        "If the channel was renamed, emit the new name; a typo in the topic is the usual cause.",
        "If nobody needs it any more, remove the emit.",
        "If the consumer lives outside this tree (another service), suppress the question with that reason.",
    ],
    "ORPHANED_CONSUMER": [
        "Check the topic against what the producers emit: a renamed or misspelled topic is the usual cause.",
        "If the producer is gone for good, remove the subscription; it will never fire.",
        "If the producer lives outside this tree, suppress the question with that reason.",
    ],
    "MISSING_WIRING": [
        "Find where the module or name went (moved, renamed, deleted) and update the import or the task name.",
        "If it was never written, write it or remove the code that depends on it.",
        "If it is generated at run time or installed separately, list it under [tool.kloros] so it is not asked about.",
    ],
    "UNINITIALIZED_COMPONENT": [
        "Set the attribute in __init__ (or declare it on the class) before any method uses it.",
        "If a subclass or a framework sets it, declare it on the class with a type annotation so readers know.",
    ],
    "DUPLICATE_RESPONSIBILITY": [
        "Keep one implementation and import it from the other places.",
        "If the copies are meant to diverge, suppress the question with that reason.",
    ],
    "DEAD_CODE": [
        "If nothing calls it, delete it; version control keeps it.",
        "If it is public API used from outside the tree, export it in __all__ so it is not asked about.",
        "If it is called dynamically (getattr, a registry), suppress the question with that reason.",
    ],
    "UNDISCOVERED_MODULE": [
        "Import it where it belongs, or register it where plugins are loaded.",
        "If it is a script or an entry point, declare it (pyproject scripts or entry points).",
        "If it is left over, delete it.",
    ],
    "MISSING_CAPABILITY": [
        "The configuration names a module that is not in the tree: fix the name or add the module.",
        "If it is provided by an installed package, nothing is wrong: suppress the question with that reason.",
    ],
    "MISSING_DOCSTRINGS": [
        "Add a one-line docstring to each public definition listed: what it is for, not how it works.",
    ],
    "STALE_KNOWLEDGE": [
        "Update the documentation to the name the code uses now, or remove the passage.",
    ],
    "UNIMPLEMENTED_STUB": [
        "Implement it, or remove it and the callers that rely on it.",
        "If it is an interface meant to be overridden, make it a method of an abstract base class.",
    ],
    "OPEN_TODO": [
        "Do the work or turn each marker into an issue and remove it from the code.",
    ],
    "MEMORY_PRESSURE_OPTIMIZATION": [
        "Look at the files being analyzed when pool processes were recycled: a huge generated file is the usual cause.",
        "Ignore generated files (KLR_IGNORE or [tool.kloros] generated), or raise KLR_WORKER_MAX_MEMORY_KB.",
    ],
    "QUEUE_BACKLOG": [
        "Start more workers, or ignore folders that change constantly (build output, caches).",
    ],
    "HOT_FILE": [
        "A file re-analyzed many times a minute is usually generated or written by an editor's autosave loop.",
        "Ignore it (KLR_IGNORE or [tool.kloros] ignore) if its questions are not worth following.",
    ],
    "SLOW_ANALYSIS": [
        "Very large or generated files are the usual cause: ignore them, or split the module.",
    ],
}

DEFAULT = [
    "Read the evidence lines, decide whether the wiring is intended, and fix it or suppress the question with a reason."
]


def guide(hypothesis: str) -> list[str]:
    return GUIDES.get(hypothesis, DEFAULT)
