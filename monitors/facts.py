"""Per-file facts: the compact, JSON-able things a monitor needs from one file's source.

Facts come from the source text alone; the analyzed code is never imported or run.
A file is parsed once and walked once (monitors/extract.py, monitors/collector.py); the
tree is dropped right after, so only these small records outlive the call. This module
holds only the records: the collector and text scanners build on it, never the reverse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from monitors import globs
from monitors.config import DEFAULT, Config

PYTHON_SUFFIXES = (".py",)
DOC_SUFFIXES = (".md", ".rst", ".txt")
CONFIG_SUFFIXES = (".cfg", ".toml", ".ini", ".yaml", ".yml")
# Read for the names they use, never asked about: Django/Jinja templates and code templates.
TEMPLATE_SUFFIXES = (".html", ".py-tpl")


class AnalysisError(Exception):
    """A file that cannot be analyzed; `reason` is a short stable code, str() the detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class Import:
    module: str  # absolute, relative imports already resolved
    name: str | None  # `from module import name`; None for `import module`
    line: int
    guarded: bool = False  # inside try/except ImportError


@dataclass(frozen=True)
class Definition:
    qualname: str  # "pkg.mod.func", "pkg.mod.Class.method"
    name: str
    kind: str  # "function", "class" or "method"
    line: int
    decorated: bool  # by something that may register it (not staticmethod/classmethod/property)
    documented: bool
    owner: str = ""  # the class qualname, for methods
    # a function of one simple statement (`return self.x`, `pass`), a class without methods
    # (`lookup_name = "contains"`): nothing a docstring would add to
    trivial: bool = False
    # called or subclassed from outside the tree by design: a class whose docstrings address
    # subclasses, a method named after the key it handles (clean_<field>), a function documented
    # for an API reference (Sphinx field lists)
    extension: bool = False


@dataclass
class ClassFacts:
    qualname: str
    line: int
    bases: list[str] = field(default_factory=list)  # resolved dotted names, "?" when not static
    attrs: set[str] = field(default_factory=set)  # declared: class body names, self.x stores
    uses: list[tuple[str, int]] = field(default_factory=list)  # self.x.method() calls
    guarded: set[str] = field(default_factory=set)  # hasattr/getattr(self, "x")
    dynamic: bool = False  # __getattr__, setattr(self, ...), self.__dict__: attrs unknowable
    abstract: bool = False
    registers: bool = False  # defines __init_subclass__: its subclasses register themselves


@dataclass(frozen=True)
class Clone:
    qualname: str
    line: int
    digest: str
    parent: str = ""  # digest of the enclosing class (methods) or copied file (module-level definitions)
    file: bool = False  # the whole module (posted only when it holds two or more clones)
    statements: int = 0  # its size: small copies between independent plugins are scaffolding


@dataclass
class FileFacts:
    path: str  # relative to the watched root, POSIX separators
    module: str
    kind: str = "python"  # "python", "doc", "config" or "template"
    is_package: bool = False
    is_test: bool = False
    is_entry: bool = False  # run or loaded by convention, not imported
    is_script: bool = False  # `if __name__ == "__main__":` or a #! line: run as `python path/to/it.py`
    roots: set[str] = field(default_factory=set)  # folders (dotted) it puts on sys.path (monitors/roots.py)
    reexports: dict[str, str] = field(default_factory=dict)  # a package's `from .base import X`: X -> dotted
    channels: Any = None  # monitors.channel_facts.ChannelFacts: endpoints, wrappers, constants, queues
    imports: list[Import] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)  # module-level names
    open_namespace: bool = False  # star import or module __getattr__: any name may exist
    definitions: list[Definition] = field(default_factory=list)
    refs: set[str] = field(default_factory=set)  # identifiers used anywhere
    attr_stores: set[str] = field(default_factory=set)  # `anything.x = ...`: x is set from outside
    exports: set[str] | None = None  # names in a literal __all__; None: no __all__ at all
    dynamic_exports: bool = False  # __all__ is computed: every public name may be exported
    # names looked up by a built string: "visit_*" of getattr(obj, "visit_" + kind), "get_*_permissions"
    name_patterns: set[str] = field(default_factory=set)
    dotted_strings: dict[str, int] = field(default_factory=dict)  # "pkg.mod.func" -> first line
    classes: list[ClassFacts] = field(default_factory=list)
    clones: list[Clone] = field(default_factory=list)
    tasks_defined: list[tuple[str, int]] = field(default_factory=list)
    tasks_called: list[tuple[str, int]] = field(default_factory=list)
    declared: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, dotted, line)
    dynamic_loader: bool = False  # iter_modules/walk_packages: the package's children found at runtime
    # modules a computed import can load: "*.base" of import_module("%s.base" % name)
    loader_patterns: set[str] = field(default_factory=set)
    string_names: set[str] = field(default_factory=set)  # lower-case identifier strings: "config_flow"
    stubs: list[tuple[str, int]] = field(default_factory=list)
    todos: list[tuple[str, int]] = field(default_factory=list)
    doc_refs: list[tuple[str, int]] = field(default_factory=list)  # (dotted symbol, line)
    # methods returning the same-named method's result of something they hold (`return
    # self.file.readable()` in `readable`): the wrapped object's method documents them
    delegates: set[str] = field(default_factory=set)
    documented: bool = True  # module docstring
    generated: bool = False  # a "generated"/"do not edit" marker on top, or a configured glob
    # (line, col, end line, end col) of string literals holding TODO/FIXME: not markers of this file
    todo_strings: list[tuple[int, int, int, int]] = field(default_factory=list)
    suppressions: dict[int, tuple[str, ...]] = field(default_factory=dict)  # `# kloros: ignore[...]` lines

    def exported(self, name: str) -> bool:
        return self.dynamic_exports or (self.exports is not None and name in self.exports)


def module_name(path: str) -> str:
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_test_path(path: str, config: Config = DEFAULT) -> bool:
    """A test by naming convention, or by `[tool.kloros] tests` globs."""
    if config.tests and globs.matches(config.tests, path):
        return True
    parts = PurePosixPath(path).parts
    name = parts[-1]
    return (
        any(part in ("tests", "test", "testing") for part in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name in ("tests.py", "test.py", "conftest.py")
    )


# Files a framework or a person runs or loads by naming convention rather than by import.
ENTRY_FILES = {
    "__main__.py", "manage.py", "setup.py", "conftest.py", "conf.py", "noxfile.py", "fabfile.py",
    "settings.py", "urls.py", "wsgi.py", "asgi.py", "apps.py", "admin.py", "models.py",
    "tasks.py", "celery.py", "celeryconfig.py", "signals.py", "receivers.py",
}  # fmt: skip
ENTRY_DIRS = {"migrations", "management", "commands", "templatetags", "settings", "scripts", "bin", "docs",
              "examples"}  # fmt: skip


def is_entry_path(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return parts[-1] in ENTRY_FILES or any(part in ENTRY_DIRS for part in parts[:-1]) or is_test_path(path)
