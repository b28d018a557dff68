"""Extraction: one file's bytes in, its FileFacts out (monitors/facts.py holds the records)."""

from __future__ import annotations

import ast
from pathlib import PurePosixPath

from monitors import collector, text
from monitors.config import DEFAULT, Config
from monitors.facts import (
    CONFIG_SUFFIXES,
    DOC_SUFFIXES,
    PYTHON_SUFFIXES,
    TEMPLATE_SUFFIXES,
    AnalysisError,
    FileFacts,
    is_entry_path,
    is_test_path,
    module_name,
)

MAX_NESTING = 200  # deeper ASTs blow the recursion limit of visitors; report instead of crashing


def parse(path: str, data: bytes) -> ast.Module:
    if b"\x00" in data:
        raise AnalysisError("nul_bytes", "source contains NUL bytes")
    try:
        return ast.parse(data, filename=path)
    except SyntaxError as exc:
        if isinstance(exc.__cause__, UnicodeDecodeError) or "codec" in str(exc) or "encoding" in str(exc.msg):
            raise AnalysisError("undecodable", f"cannot decode source: {exc.msg}") from None
        raise AnalysisError("syntax_error", f"line {exc.lineno}: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise AnalysisError("undecodable", f"cannot decode source: {exc.reason}") from None
    except (RecursionError, MemoryError):
        raise AnalysisError("too_deep", "source nests too deeply to parse") from None


def extract(path: str, data: bytes, config: Config = DEFAULT) -> FileFacts:
    facts = FileFacts(path=path, module=module_name(path))
    if path.endswith(PYTHON_SUFFIXES):
        facts.is_package = PurePosixPath(path).name == "__init__.py"
        facts.is_test = is_test_path(path)
        facts.is_entry = is_entry_path(path)
        tree = parse(path, data)
        try:
            collector.FactCollector(facts, config).collect(tree)
        except RecursionError:
            raise AnalysisError("too_deep", f"source nests deeper than {MAX_NESTING} levels") from None
        text.scan_todos(facts, data)
        if data.startswith(b"#!"):  # run as a program: its folder is on sys.path, and nothing imports it
            facts.is_script = facts.is_entry = True
    elif path.endswith(DOC_SUFFIXES):
        facts.kind = "doc"
        content = decode(data)
        text.scan_doc(facts, content)
        if "{{" in content or "{%" in content:  # a .txt template (an e-mail body, a robots.txt)
            text.scan_template(facts, content)
    elif path.endswith(TEMPLATE_SUFFIXES):
        facts.kind = "template"
        text.scan_template(facts, decode(data), code=path.endswith(".py-tpl"))
    elif path.endswith(CONFIG_SUFFIXES):
        facts.kind = "config"
        text.scan_config(facts, decode(data))
    return facts


def placeholder_facts(path: str) -> FileFacts:
    """What is known of a file that cannot be analyzed: it exists, and may define anything."""
    facts = FileFacts(path=path, module=module_name(path), open_namespace=True, is_entry=True)
    facts.kind = (
        "python"
        if path.endswith(PYTHON_SUFFIXES)
        else "doc"
        if path.endswith(DOC_SUFFIXES)
        else "template"
        if path.endswith(TEMPLATE_SUFFIXES)
        else "config"
    )
    facts.is_package = PurePosixPath(path).name == "__init__.py"
    facts.is_test = is_test_path(path)
    return facts


def decode(data: bytes) -> str:
    if b"\x00" in data:
        raise AnalysisError("nul_bytes", "text contains NUL bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AnalysisError("undecodable", f"cannot decode text as UTF-8: {exc.reason}") from None
