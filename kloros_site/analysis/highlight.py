"""Stored source as highlighted HTML lines (Pygments), snippets around evidence lines, and
links out to a forge or an editor (KLR_SOURCE_URL)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.utils.html import escape
from pygments import lex
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_for_filename
from pygments.token import STANDARD_TYPES, _TokenType
from pygments.util import ClassNotFound

# Pygments needs about a second per megabyte: past this a file is shown as plain text
MAX_HIGHLIGHT_CHARS = 300_000
CONTEXT = 3  # lines shown above and below an evidence line


def _lexer(path: str) -> Lexer:
    # stripnl=False: a file starting with blank lines must keep its line numbers
    options = {"stripnl": False, "ensurenl": True}
    try:
        return get_lexer_for_filename(path, **options)
    except ClassNotFound:
        return TextLexer(**options)


def _css_class(ttype: _TokenType) -> str:
    while ttype not in STANDARD_TYPES:
        ttype = ttype.parent
    return STANDARD_TYPES[ttype]


def _highlight(path: str, text: str) -> list[str]:
    if len(text) > MAX_HIGHLIGHT_CHARS:
        return [escape(line) for line in text.split("\n")]
    lines: list[str] = []
    current: list[str] = []
    # tokens may span lines (docstrings): split each at newlines so every line is whole HTML
    for ttype, value in lex(text, _lexer(path)):
        css = _css_class(ttype)
        for i, part in enumerate(value.split("\n")):
            if i:
                lines.append("".join(current))
                current = []
            if part:
                current.append(f'<span class="{css}">{escape(part)}</span>' if css else escape(part))
    if current:
        lines.append("".join(current))
    return lines


def html_lines(path: str, text: str, digest: str = "") -> list[str]:
    """One HTML string per line of `text` (line 1 at index 0); cached per content hash."""
    if not digest:
        return _highlight(path, text)
    key = f"kloros:hl:{digest}:{path.rpartition('.')[2]}"
    lines = cache.get(key)
    if lines is None:
        lines = _highlight(path, text)
        cache.set(key, lines, 3600)
    return lines


@dataclass
class Line:
    number: int
    html: str
    marked: bool = False  # an evidence line
    notes: list = field(default_factory=list)  # questions shown under this line (file page)


def windows(lines: list[str], marked: set[int], context: int = CONTEXT) -> list[list[Line]]:
    """The lines around each marked line, overlapping windows merged, in order."""
    spans: list[list[int]] = []
    for number in sorted(n for n in marked if 1 <= n <= len(lines)):
        low, high = max(1, number - context), min(len(lines), number + context)
        if spans and low <= spans[-1][1] + 1:
            spans[-1][1] = max(spans[-1][1], high)
        else:
            spans.append([low, high])
    return [[Line(n, lines[n - 1], n in marked) for n in range(low, high + 1)] for low, high in spans]


def source_url(root: str, path: str, line: int = 0) -> str:
    """KLR_SOURCE_URL with {root}, {path} and {line} filled in; empty when it is not set."""
    template = settings.KLR_SOURCE_URL
    if not template:
        return ""
    values = {"{root}": root.rstrip("/"), "{path}": path, "{line}": str(line or 1)}
    for placeholder, value in values.items():
        template = template.replace(placeholder, value)
    return template
