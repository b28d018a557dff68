"""Import roots: the folders a tree's code puts on sys.path and imports itself from.

Module names come from paths relative to the scanned tree's import root; code often
imports itself under other roots as well: a src-layout (`src/pkg/x.py` imported as
`pkg.x`), a `sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))`, a
script importing the modules beside it. A file states the roots it adds (facts.roots,
evaluated here from the path expression, never by running it); `root_postings` files them
under one key, `roots:all`, which the monitors read to resolve `pkg.x` to `src.pkg.x`.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from monitors.visitor import dotted

Parts = tuple[str, ...]  # a folder relative to the import root, ("src",); () is the root itself

TRANSPARENT = {"os.path.abspath", "os.path.realpath", "os.path.normpath", "os.path.expanduser", "str",
               "os.fspath", "abspath", "realpath", "normpath"}  # fmt: skip
PATH_CLASSES = {"Path", "pathlib.Path", "PurePath", "pathlib.PurePath", "PosixPath"}
PATH_METHODS = {"resolve", "absolute", "expanduser"}
SYS_PATH_CALLS = {"sys.path.insert": 1, "sys.path.append": 0, "site.addsitedir": 0}
SRC_FOLDERS = {"src"}  # a src-layout: packages in src/, imported without the prefix
ROOTS_KEY = "roots:all"


PATH_CALLS = {"dirname", "join", "abspath", "realpath", "normpath", "expanduser", "str", "fspath", "resolve",
              "absolute", *(name.rpartition(".")[2] for name in PATH_CLASSES)}  # fmt: skip


def may_be_path(value: ast.expr) -> bool:
    """A cheap first look (every assignment passes here): could `value` name a folder?"""
    kind = value.__class__
    if kind is ast.Call:
        func = value.func
        name = (
            func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        )
        return name in PATH_CALLS
    if kind is ast.Attribute:
        return value.attr == "parent"
    if kind is ast.Subscript:
        return isinstance(value.value, ast.Attribute) and value.value.attr == "parents"
    return kind is ast.BinOp and isinstance(value.op, ast.Div)


def normalize(parts: list[str]) -> Parts | None:
    out: list[str] = []
    for part in parts:
        if part in ("", "."):
            continue
        if part == "..":
            if not out:
                return None  # above the scanned tree: nothing of it is ours
            out.pop()
        else:
            out.append(part)
    return tuple(out)


def path_of(node: ast.expr, file: Parts, names: Mapping[str, Parts]) -> Parts | None:
    """The folder an expression names, relative to the import root; None when unknown.

    `file` is the analyzed file's own path; `names` holds local names already bound to a path.
    Relative string literals are taken from the import root (where such code is usually run).
    """
    if isinstance(node, ast.Name):
        return file if node.id == "__file__" else names.get(node.id)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return None if node.value.startswith(("/", "~")) else normalize(node.value.split("/"))
    if isinstance(node, ast.Attribute):
        if node.attr == "parent":
            base = path_of(node.value, file, names)
            return base[:-1] if base else None
        return None
    if (
        isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "parents"
    ):
        base = path_of(node.value.value, file, names)
        index = node.slice.value if isinstance(node.slice, ast.Constant) else None
        if base is None or not isinstance(index, int) or index + 1 > len(base):
            return None
        return base[: len(base) - index - 1]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # Path(...) / "src"
        base = path_of(node.left, file, names)
        more = node.right.value if isinstance(node.right, ast.Constant) else None
        return normalize([*base, *more.split("/")]) if base is not None and isinstance(more, str) else None
    if isinstance(node, ast.Call):
        return call_path(node, file, names)
    return None


def call_path(node: ast.Call, file: Parts, names: Mapping[str, Parts]) -> Parts | None:
    func = dotted(node.func) or ""
    args = node.args
    if isinstance(node.func, ast.Attribute) and node.func.attr in PATH_METHODS and not args:
        return path_of(node.func.value, file, names)  # Path(__file__).resolve()
    if not args:
        return None
    if func in ("os.path.dirname", "dirname"):
        base = path_of(args[0], file, names)
        return base[:-1] if base else None
    if func in TRANSPARENT or func in PATH_CLASSES:
        base = path_of(args[0], file, names)
        if base is None or len(args) == 1:
            return base
        args = [ast.Constant("/".join(base) or "."), *args[1:]]
        func = "os.path.join"
    if func in ("os.path.join", "join"):
        base = path_of(args[0], file, names)
        rest = [a.value for a in args[1:] if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if base is None or len(rest) != len(args) - 1 or any(r.startswith("/") for r in rest):
            return None
        return normalize([*base, *(p for r in rest for p in r.split("/"))])
    return None


def sys_path_root(node: ast.Call, file: Parts, names: Mapping[str, Parts]) -> Parts | None:
    """The folder `sys.path.insert(0, x)` / `sys.path.append(x)` / `site.addsitedir(x)` adds."""
    position = SYS_PATH_CALLS.get(dotted(node.func) or "")
    if position is None or len(node.args) <= position:
        return None
    return path_of(node.args[position], file, names)


def layout_root(path: str) -> str | None:
    """src/pkg/__init__.py or src/module.py: the src-layout's folder is a root (one posting per
    top-level package, not per file)."""
    parts = PurePosixPath(path).parts
    if parts[0] in SRC_FOLDERS and (len(parts) == 2 or (len(parts) == 3 and parts[2] == "__init__.py")):
        return parts[0]
    return None


def script_root(path: str, is_script: bool) -> str | None:
    """`python tools/run.py` puts tools/ first on sys.path, for that run: a root of the script's
    own imports only (made global, tools/types.py would shadow the stdlib for every module)."""
    parent = PurePosixPath(path).parent.as_posix()
    return parent.replace("/", ".") if is_script and parent != "." else None


def root_postings(facts: Any, postings: dict[str, Any]) -> None:
    """`roots:all` lists the roots this file adds (sys.path edits, a src-layout)."""
    roots = set(facts.roots)
    if layout := layout_root(facts.path):
        roots.add(layout)
    if roots:
        postings[ROOTS_KEY] = sorted(roots)
