"""Per-file facts: the compact, JSON-able things a monitor needs from one file's source.

Facts come from the source text alone; the analyzed code is never imported or run.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import PurePosixPath

PYTHON_SUFFIXES = (".py",)
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


@dataclass
class FileFacts:
    path: str  # relative to the watched root, POSIX separators
    module: str
    channels: list[ChannelEndpoint] = field(default_factory=list)


def module_name(path: str) -> str:
    parts = list(PurePosixPath(path).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


PRODUCER_CALLS = {"emit", "publish"}
CONSUMER_CALLS = {"subscribe", "ChemSub"}
CHANNEL_KEYWORDS = ("signal", "topic", "channel")


def _callee(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _channel_argument(node: ast.Call) -> str | None:
    for kw in node.keywords:
        if kw.arg in CHANNEL_KEYWORDS and isinstance(kw.value, ast.Constant):
            return kw.value.value if isinstance(kw.value.value, str) else None
    if node.args and isinstance(node.args[0], ast.Constant):
        value = node.args[0].value
        return value if isinstance(value, str) else None
    return None


class FactCollector(ast.NodeVisitor):
    def __init__(self, facts: FileFacts) -> None:
        self.facts = facts

    def visit_Call(self, node: ast.Call) -> None:
        callee = _callee(node)
        role = "producer" if callee in PRODUCER_CALLS else "consumer" if callee in CONSUMER_CALLS else None
        if role:
            channel = _channel_argument(node)
            if channel:
                self.facts.channels.append(ChannelEndpoint(role, channel, node.lineno))
        self.generic_visit(node)


def parse(path: str, data: bytes) -> ast.Module:
    if b"\x00" in data:
        raise AnalysisError("nul_bytes", "source contains NUL bytes")
    try:
        return ast.parse(data, filename=path)
    except SyntaxError as exc:
        if isinstance(exc.__cause__, UnicodeDecodeError) or "codec" in str(exc):
            raise AnalysisError("undecodable", f"cannot decode source: {exc.msg}") from None
        raise AnalysisError("syntax_error", f"line {exc.lineno}: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise AnalysisError("undecodable", f"cannot decode source: {exc.reason}") from None
    except (RecursionError, MemoryError):
        raise AnalysisError("too_deep", "source nests too deeply to parse") from None


def extract(path: str, data: bytes) -> FileFacts:
    facts = FileFacts(path=path, module=module_name(path))
    if not path.endswith(PYTHON_SUFFIXES):
        return facts
    tree = parse(path, data)
    try:
        FactCollector(facts).visit(tree)
    except RecursionError:
        raise AnalysisError("too_deep", f"source nests deeper than {MAX_NESTING} levels") from None
    return facts
