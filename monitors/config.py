"""What a tree says about itself: `[tool.kloros]` in its pyproject.toml, read once per scan.

`load(root)` finds the nearest pyproject.toml with that table at or above the tree (up to the
repository root), rebases its gitignore-style globs onto the tree, detects `kind` and resolves
reference roots; docs/CONFIGURATION.md is the user's reference.

Configuration is an input of the whole analysis, like the engine's own code: extraction
(`extract.extract`) and evaluation (`Lookup.config`) both see it, and a change of it means
every file is analyzed again (its digest is part of the analysis version). So incremental
still equals batch: both run with the same Config.

    [tool.kloros]
    kind = "library"                 # or "application"; default: detected (see detect_kind)
    ignore = ["build/**"]            # files not analyzed at all
    tests = ["qa/**"]                # files treated as tests
    generated = ["*_pb2.py"]         # files whose docstrings and clones are not asked about
    reference-roots = ["tests", "scripts"]   # read for references, never asked about
    severity = { DEAD_CODE = "medium" }
    recorders-are-consumers = false  # a catch-all subscription ("#", "") counts as a consumer

    [[tool.kloros.endpoints]]        # more publish/subscribe callables (added to the defaults)
    callable = "mybus.Bus.fire"      # dotted name of a function, or Class.method
    role = "producer"                # or "consumer"
    position = 0                     # where the topic is: argument position ...
    keyword = "topic"                # ... or keyword (either may be given)
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from monitors import globs

KINDS = ("auto", "library", "application")
ROLES = ("producer", "consumer")


class ConfigError(ValueError):
    """`[tool.kloros]` holds something this version does not understand; the message says what."""


@dataclass(frozen=True)
class Endpoint:
    callable: str  # "pkg.mod.func", "pkg.mod.Class.method" or a bare "Class.method" / "func"
    role: str  # "producer" or "consumer"
    position: int | None = 0
    keyword: str | None = None


@dataclass(frozen=True)
class Config:
    kind: str = "auto"
    endpoints: tuple[Endpoint, ...] = ()
    ignore: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()
    generated: tuple[str, ...] = ()
    reference_roots: tuple[str, ...] = ()
    severity: tuple[tuple[str, str], ...] = ()  # (hypothesis, severity), sorted
    recorders_are_consumers: bool = False
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def library(self) -> bool:
        return self.kind == "library"

    def severity_of(self, hypothesis: str, default: str) -> str:
        return dict(self.severity).get(hypothesis, default)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Config:
        fields = dict(data)
        fields["endpoints"] = tuple(Endpoint(**e) for e in fields.get("endpoints", ()))
        for name in ("ignore", "tests", "generated", "reference_roots"):
            fields[name] = tuple(fields.get(name, ()))
        fields["severity"] = tuple(tuple(pair) for pair in fields.get("severity", ()))
        return cls(**fields)

    def digest(self) -> str:
        """Changes whenever anything that can change a question changes."""
        return hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:12]


DEFAULT = Config()


def from_table(table: dict[str, Any], kind: str = "auto") -> Config:
    """A Config from the `[tool.kloros]` table; unknown keys and bad values raise ConfigError."""
    known = {"kind", "endpoints", "ignore", "tests", "generated", "reference-roots", "severity",
             "recorders-are-consumers"}  # fmt: skip
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"[tool.kloros]: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    kind = table.get("kind", kind)
    if kind not in KINDS:
        raise ConfigError(f"[tool.kloros] kind must be one of {KINDS}, not {kind!r}")
    endpoints = []
    for entry in table.get("endpoints", []):
        if not isinstance(entry, dict) or "callable" not in entry or entry.get("role") not in ROLES:
            raise ConfigError(
                f"[[tool.kloros.endpoints]] needs callable and role ({'/'.join(ROLES)}): {entry!r}"
            )
        endpoints.append(
            Endpoint(entry["callable"], entry["role"], entry.get("position", 0 if "keyword" not in entry else None),
                     entry.get("keyword"))
        )  # fmt: skip
    for name in ("ignore", "tests", "generated", "reference-roots"):
        value = table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"[tool.kloros] {name} must be a list of strings, not {value!r}")
    if not isinstance(table.get("recorders-are-consumers", False), bool):
        raise ConfigError("[tool.kloros] recorders-are-consumers must be true or false")
    severity = table.get("severity", {})
    if not isinstance(severity, dict) or any(v not in ("low", "medium", "high") for v in severity.values()):
        raise ConfigError(f"[tool.kloros] severity must map hypotheses to low/medium/high: {severity!r}")
    return Config(
        kind=kind,
        endpoints=tuple(endpoints),
        ignore=tuple(table.get("ignore", ())),
        tests=tuple(table.get("tests", ())),
        generated=tuple(table.get("generated", ())),
        reference_roots=tuple(table.get("reference-roots", ())),
        severity=tuple(sorted(severity.items())),
        recorders_are_consumers=bool(table.get("recorders-are-consumers", False)),
    )


def load(root: Path, file: Path | None = None) -> Config:
    """The Config of the tree at `root` (its import root), from `file` or the nearest pyproject.toml.

    Without `file`, the nearest pyproject.toml with a [tool.kloros] table at or above `root`
    is read, up to the repository root (as ruff finds its configuration). Globs are written
    relative to the folder holding that file and come back relative to `root`; `kind` is
    detected unless set; reference roots come back as folder names in the tree's namespace,
    with the folders to read in `extra["reference_dirs"]`. Raises ConfigError.
    """
    root = root.resolve()
    pyproject = file.resolve() if file is not None else find(root)
    table: dict[str, Any] = {}
    if pyproject is not None:
        if not pyproject.is_file():
            raise ConfigError(f"{pyproject}: no such file")
        found = read_toml(pyproject).get("tool", {}).get("kloros", {})
        if not isinstance(found, dict):
            raise ConfigError(f"{pyproject}: [tool.kloros] must be a table")
        table = found
    try:
        config = from_table(table)
    except ConfigError as exc:
        raise ConfigError(f"{pyproject}: {exc}") from None
    base = pyproject.parent if pyproject is not None else root
    prefix = root.relative_to(base).as_posix() if root.is_relative_to(base) else ""
    prefix = "" if prefix == "." else prefix

    def rebased(patterns: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(p for p in (globs.rebase(g, prefix) for g in patterns) if p is not None)

    kind = config.kind if config.kind != "auto" else detect_kind(root, pyproject)
    if "reference-roots" in table:
        candidates = [base / folder for folder in config.reference_roots]
    elif root.parent != root and is_project(root.parent):
        candidates = [root.parent / "tests", root.parent / "scripts"]  # beside a src/ folder
    else:
        candidates = []
    names, outside = reference_roots(root, candidates)
    return replace(
        config,
        kind=kind,
        ignore=rebased(config.ignore),
        tests=rebased(config.tests),
        generated=rebased(config.generated),
        reference_roots=names,
        extra={"source": str(pyproject) if pyproject else "", "reference_dirs": outside},
    )


def read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def find(root: Path) -> Path | None:
    """The nearest pyproject.toml with a [tool.kloros] table, from `root` up to the repository root."""
    for folder in (root, *root.parents):
        candidate = folder / "pyproject.toml"
        # a cheap look at the text first: most pyproject.toml files above a tree are not ours
        if (
            candidate.is_file()
            and "kloros" in candidate.read_text(encoding="utf-8", errors="replace")
            and "kloros" in read_toml(candidate).get("tool", {})
        ):
            return candidate
        if any((folder / marker).exists() for marker in (".git", ".hg")):
            break
    return None


def is_project(folder: Path) -> bool:
    return any(
        (folder / name).exists() for name in ("pyproject.toml", "setup.py", "setup.cfg", ".git", ".hg")
    )


def reference_roots(root: Path, candidates: list[Path]) -> tuple[tuple[str, ...], dict[str, str]]:
    """Tree-relative names of the reference folders that exist, and {name: folder} of those
    outside the tree (read under their own name: `../tests` is `tests/...`)."""
    names: set[str] = set()
    outside: dict[str, str] = {}
    for candidate in candidates:
        folder = candidate.resolve()
        if not folder.is_dir() or folder == root:
            continue
        if folder.is_relative_to(root):
            names.add(folder.relative_to(root).as_posix())
        elif folder.name not in outside:
            names.add(folder.name)
            outside[folder.name] = str(folder)
    return tuple(sorted(names)), outside


PACKAGE_LINE = re.compile(r"^\s*(?:packages|py_modules)\s*=", re.MULTILINE)
SETUP_CALL = re.compile(r"\b(?:packages|py_modules)\s*=")
BUILD_TOOLS = ("setuptools", "poetry", "flit", "hatch", "pdm")


def detect_kind(root: Path, pyproject: Path | None = None) -> str:
    """A distributable library (its public names are API, used from outside) or an application.

    A library: a `*.dist-info` folder beside the scanned package (an installed or unpacked
    wheel); or, in the tree, the folder above it or the configuration's folder, a
    pyproject.toml with a [project] table and a [build-system] (or build-tool settings such
    as [tool.setuptools]), or a setup.py / setup.cfg naming packages or modules. A
    [project] table without a build system is how applications list their dependencies.
    """
    for folder in (root, root.parent):
        if any(folder.glob("*.dist-info")):
            return "library"
    folders = [root, root.parent] + ([pyproject.parent] if pyproject is not None else [])
    for folder in dict.fromkeys(folders):
        if declares_packages(folder):
            return "library"
    return "application"


def declares_packages(folder: Path) -> bool:
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = read_toml(pyproject)
        except ConfigError:
            data = {}  # not ours to judge; a broken [tool.kloros] is reported by load()
        tool = data.get("tool", {})
        if ("project" in data and "build-system" in data) or any(name in tool for name in BUILD_TOOLS):
            return True
    for name, pattern in (("setup.cfg", PACKAGE_LINE), ("setup.py", SETUP_CALL)):
        path = folder / name
        if path.is_file() and pattern.search(path.read_text(encoding="utf-8", errors="replace")):
            return True
    return False
