"""Per-file facts: the compact, JSON-able things a monitor needs from one file's source.

Facts come from the source text alone; the analyzed code is never imported or run.
A file is parsed once and walked once (monitors/collector.py); the tree is dropped
right after, so only these small records outlive the call.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from monitors import globs
from monitors.config import DEFAULT, Config
from monitors.grammar import RUNNING, Version, newer_construct, version_text

PYTHON_SUFFIXES = (".py",)
DOC_SUFFIXES = (".md", ".rst", ".txt")
CONFIG_SUFFIXES = (".cfg", ".toml")
MAX_NESTING = 200  # deeper ASTs blow the recursion limit of visitors; report instead of crashing


class AnalysisError(Exception):
    """A file that cannot be analyzed; `reason` is a short stable code, str() the detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


@dataclass(frozen=True)
class ChannelEndpoint:
    role: str  # "producer" or "consumer"
    channel: str
    line: int


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


@dataclass(frozen=True)
class Clone:
    qualname: str
    line: int
    digest: str
    parent: str = ""  # digest of the enclosing class, for methods


@dataclass
class FileFacts:
    path: str  # relative to the watched root, POSIX separators
    module: str
    kind: str = "python"  # "python", "doc" or "config"
    is_package: bool = False
    is_test: bool = False
    is_entry: bool = False  # run or loaded by convention, not imported
    channels: list[ChannelEndpoint] = field(default_factory=list)
    imports: list[Import] = field(default_factory=list)
    bound: set[str] = field(default_factory=set)  # module-level names
    open_namespace: bool = False  # star import or module __getattr__: any name may exist
    definitions: list[Definition] = field(default_factory=list)
    refs: set[str] = field(default_factory=set)  # identifiers used anywhere
    attr_stores: set[str] = field(default_factory=set)  # `anything.x = ...`: x is set from outside
    exports: set[str] | None = None  # names in a literal __all__; None: no __all__ at all
    dynamic_exports: bool = False  # __all__ is computed: every public name may be exported
    string_prefixes: set[str] = field(default_factory=set)  # "visit_" of getattr(self, "visit_" + x)
    dotted_strings: dict[str, int] = field(default_factory=dict)  # "pkg.mod.func" -> first line
    classes: list[ClassFacts] = field(default_factory=list)
    clones: list[Clone] = field(default_factory=list)
    tasks_defined: list[tuple[str, int]] = field(default_factory=list)
    tasks_called: list[tuple[str, int]] = field(default_factory=list)
    declared: list[tuple[str, str, int]] = field(default_factory=list)  # (kind, dotted, line)
    dynamic_loader: bool = False  # iter_modules/import_module(non-literal): children found at runtime
    stubs: list[tuple[str, int]] = field(default_factory=list)
    todos: list[tuple[str, int]] = field(default_factory=list)
    doc_refs: list[tuple[str, int]] = field(default_factory=list)  # (dotted symbol, line)
    documented: bool = True  # module docstring
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
ENTRY_DIRS = {"migrations", "commands", "templatetags", "settings", "scripts", "bin", "docs", "examples"}


def is_entry_path(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return parts[-1] in ENTRY_FILES or any(part in ENTRY_DIRS for part in parts[:-1]) or is_test_path(path)


def parse(path: str, data: bytes, target: Version | None = None) -> ast.Module:
    """The module's AST, parsed with the running Python's grammar (or an older `target`'s).

    A file rejected for a construct of a newer Python gets reason "newer_grammar" and a
    detail naming both versions; any other rejection is a "syntax_error".
    """
    if b"\x00" in data:
        raise AnalysisError("nul_bytes", "source contains NUL bytes")
    try:
        return ast.parse(data, filename=path, feature_version=target)
    except SyntaxError as exc:
        if isinstance(exc.__cause__, UnicodeDecodeError) or "codec" in str(exc) or "encoding" in str(exc.msg):
            raise AnalysisError("undecodable", f"cannot decode source: {exc.msg}") from None
        grammar = version_text(target or RUNNING)
        lines = data.decode("utf-8", "replace").splitlines()
        line = lines[exc.lineno - 1] if exc.lineno and 0 < exc.lineno <= len(lines) else ""
        if newer := newer_construct(exc, line, target or RUNNING):
            needed, construct = newer
            raise AnalysisError(
                "newer_grammar",
                f"line {exc.lineno}: written for Python {version_text(needed)} or newer ({construct}); "
                f"analyzed with Python {grammar}'s grammar: run the analysis with Python {version_text(needed)}+",
            ) from None
        raise AnalysisError(
            "syntax_error", f"line {exc.lineno}: {exc.msg} (Python {grammar} grammar)"
        ) from None
    except UnicodeDecodeError as exc:
        raise AnalysisError("undecodable", f"cannot decode source: {exc.reason}") from None
    except (RecursionError, MemoryError):
        raise AnalysisError("too_deep", "source nests too deeply to parse") from None


def extract(path: str, data: bytes, config: Config = DEFAULT) -> FileFacts:
    # Imported here: the collector and text scanners build on the records above.
    from monitors import collector, suppress, text

    facts = FileFacts(path=path, module=module_name(path))
    if path.endswith(PYTHON_SUFFIXES):
        facts.is_package = PurePosixPath(path).name == "__init__.py"
        facts.is_test = is_test_path(path, config)
        facts.is_entry = is_entry_path(path) or facts.is_test
        tree = parse(path, data)
        try:
            collector.FactCollector(facts, config).collect(tree)
        except RecursionError:
            raise AnalysisError("too_deep", f"source nests deeper than {MAX_NESTING} levels") from None
        text.scan_todos(facts, data)
        facts.suppressions = suppress.scan_python(data)
    elif path.endswith(DOC_SUFFIXES):
        facts.kind = "doc"
        text.scan_doc(facts, decode(data))
        facts.suppressions = suppress.scan_text(decode(data), PurePosixPath(path).suffix)
    elif path.endswith(CONFIG_SUFFIXES):
        facts.kind = "config"
        text.scan_config(facts, decode(data))
        facts.suppressions = suppress.scan_text(decode(data), PurePosixPath(path).suffix)
    return facts


def placeholder_facts(path: str, config: Config = DEFAULT) -> FileFacts:
    """What is known of a file that cannot be analyzed: it exists, and may define anything."""
    facts = FileFacts(path=path, module=module_name(path), open_namespace=True, is_entry=True)
    facts.kind = (
        "python" if path.endswith(PYTHON_SUFFIXES) else "doc" if path.endswith(DOC_SUFFIXES) else "config"
    )
    facts.is_package = PurePosixPath(path).name == "__init__.py"
    facts.is_test = is_test_path(path, config)
    return facts


def decode(data: bytes) -> str:
    if b"\x00" in data:
        raise AnalysisError("nul_bytes", "text contains NUL bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AnalysisError("undecodable", f"cannot decode text as UTF-8: {exc.reason}") from None
