"""What a tree says about itself: `[tool.kloros]` in its pyproject.toml, read once per scan.

Configuration is an input of the whole analysis, like the engine's own code: extraction
(`facts.extract`) and evaluation (`Lookup.config`) both see it, and a change of it means
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
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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


def load(root: Path) -> Config:
    """The Config of the tree at `root`: its pyproject.toml's [tool.kloros], kind detected if unset."""
    pyproject = root / "pyproject.toml"
    table: dict[str, Any] = {}
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{pyproject}: {exc}") from None
        table = data.get("tool", {}).get("kloros", {})
    config = from_table(table)
    if config.kind == "auto":
        config = Config(**{**config.__dict__, "kind": detect_kind(root)})
    return config


def detect_kind(root: Path) -> str:
    """A distributable library (its public names are API, used from outside) or an application.

    A library: a `*.dist-info` folder beside the scanned package (an installed or unpacked
    wheel), or a pyproject/setup that declares a package to build.
    """
    for folder in (root, root.parent):
        if any(folder.glob("*.dist-info")):
            return "library"
    return "application"
