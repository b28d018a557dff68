"""Facts from text: documentation references, configured entry points, template references, TODO markers."""

from __future__ import annotations

import re

from monitors.facts import FileFacts

DOTTED_NAME = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"
# `pkg.mod.func`, ``pkg.mod.func()``, :func:`~pkg.mod.func`, :class:`title <pkg.mod.Class>`
BACKTICKED = re.compile(rf"(?<![`:\w])``?({DOTTED_NAME})(?:\(\))?``?(?!`)")
ROLE = re.compile(
    rf":(?:py:)?(?:func|class|meth|mod|attr|data|exc|obj):`(?:[^`<]*<)?[~!]?({DOTTED_NAME})(?:\(\))?>?`"
)
AUTODOC = re.compile(
    r"^\s*\.\.\s+auto(?:function|class|module|method|attribute|data|exception)::\s*([A-Za-z_][\w.]*)\s*$"
)
ENTRY_POINT = re.compile(
    r"^\s*[\w.\-\"']+\s*=\s*[\"']?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)\s*:\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)"
)
CONFIG_DOTTED = re.compile(rf"(?<![\w.]){DOTTED_NAME}(?![\w])")
TEMPLATE_TAG = re.compile(r"\{\{(.*?)\}\}|\{%(.*?)%\}", re.DOTALL)
IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
QUOTED_DOTTED = re.compile(rf"""["']({DOTTED_NAME})["']""")
# counts only at a line's start or after a blank (scan_todos checks the byte before): a pattern
# that starts with `#` is searched for fast, one that starts with a choice is tried at every byte
TODO = re.compile(rb"#[ \t]*(TODO|FIXME)\b")
BEFORE_TODO = b" \t\n"


def scan_doc(facts: FileFacts, text: str, first_line: int = 1) -> None:
    """Symbols a document names: backticked dotted names, Sphinx roles, autodoc directives."""
    for offset, line in enumerate(text.splitlines()):
        if "`" not in line and ".. auto" not in line:
            continue
        lineno = first_line + offset
        names = set(BACKTICKED.findall(line)) | set(ROLE.findall(line))
        if match := AUTODOC.match(line):
            names.add(match.group(1))
        facts.doc_refs.extend((name, lineno) for name in sorted(names))


def scan_docstring(facts: FileFacts, text: str, first_line: int) -> None:
    """Only explicit Sphinx roles: plain backticks in docstrings name parameters and attributes too."""
    if ":`" not in text:
        return
    for offset, line in enumerate(text.splitlines()):
        facts.doc_refs.extend((name, first_line + offset) for name in sorted(set(ROLE.findall(line))))


def scan_config(facts: FileFacts, text: str) -> None:
    """setup.cfg / pyproject.toml: `name = pkg.mod:func` entry points, and dotted names as references."""
    for lineno, line in enumerate(text.splitlines(), 1):
        if match := ENTRY_POINT.match(line):
            module, attr = match.groups()
            facts.declared.append(("entry point", module, lineno))
            facts.dotted_strings.setdefault(module, lineno)
            facts.refs.update(attr.split("."))
        for name in CONFIG_DOTTED.findall(line):
            facts.dotted_strings.setdefault(name, lineno)
            facts.refs.update(name.split("."))


def scan_template(facts: FileFacts, text: str, code: bool = False) -> None:
    """Names a template uses: every identifier inside {{ ... }} / {% ... %} (`{{ formset.data }}`
    calls `data`), and quoted dotted paths. A code template (`settings.py-tpl`) is Python with
    placeholders: all of it is code, so every identifier in it and every quoted dotted path counts.
    """
    chunks = [(0, text)] if code else [(m.start(), m.group(0)) for m in TEMPLATE_TAG.finditer(text)]
    for start, chunk in chunks:
        facts.refs.update(IDENTIFIER.findall(chunk))
        for match in QUOTED_DOTTED.finditer(chunk):
            line = text.count("\n", 0, start + match.start()) + 1
            facts.dotted_strings.setdefault(match.group(1), line)
            facts.refs.update(match.group(1).split("."))


def scan_todos(facts: FileFacts, data: bytes) -> None:
    """`# TODO` / `# FIXME` comments; not inside string literals (facts.todo_strings: a code
    template's TODO is the generated code's, not this file's)."""
    line, position = 1, 0
    for match in TODO.finditer(data):
        if match.start() and data[match.start() - 1] not in BEFORE_TODO:
            continue
        line += data.count(b"\n", position, match.start())
        position = match.start()
        if facts.todo_strings:
            hash_at = data.index(b"#", match.start())
            column = hash_at - (data.rfind(b"\n", 0, hash_at) + 1)  # ast columns are UTF-8 byte offsets
            at = (line, column)
            if any((l0, c0) <= at < (l1, c1) for l0, c0, l1, c1 in facts.todo_strings):
                continue
        facts.todos.append((match.group(1).decode(), line))
