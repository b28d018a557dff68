"""Which Python a file was written for, when the parser at hand rejects it.

The analysis parses with the Python it runs on (scripts/bootstrap.sh builds the venv with
the newest one on the machine). A file written for a newer Python is not broken, and a
"syntax_error" would send its owner looking for a typo: `newer_construct` recognises the
constructs each newer grammar added, on the line the parser stopped at, so the file can be
reported as "newer_grammar" with the version it needs.
"""

from __future__ import annotations

import re
import sys

Version = tuple[int, int]
RUNNING: Version = sys.version_info[:2]

# what ast.parse(..., feature_version=...) says of constructs newer than the version asked for
ONLY_SUPPORTED = re.compile(r"(.*) (?:is|are) only supported in Python (\d+)\.(\d+) and greater")
TYPE_PARAMS = re.compile(r"^\s*(?:(?:async\s+)?def|class)\s+[A-Za-z_]\w*\s*\[")
TYPE_ALIAS = re.compile(r"^\s*type\s+[A-Za-z_]\w*\s*(?:\[[^\]]*\]\s*)?=")
TEMPLATE_STRING = re.compile(r"(?<![\w'\"])(?:[tT][rR]?|[rR][tT])['\"]")
FSTRING = re.compile(r"(?<![\w'\"])(?:[fF][rR]?|[rR][fF])(\"\"\"|'''|\"|')")


def version_text(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


def pep701_fstring(line: str) -> bool:
    """An f-string on `line` that is whole under Python 3.12's rules (PEP 701) and uses what
    older grammars refuse inside a replacement field: its own quote, a backslash, a comment."""
    for match in FSTRING.finditer(line):
        quote, i, depth, newer = match.group(1), match.end(), 0, False
        while i < len(line):
            c = line[i]
            if depth == 0:
                if line.startswith(quote, i):
                    if newer:
                        return True
                    break  # an f-string any grammar reads; look at the next one
                if c == "\\" or line.startswith(("{{", "}}"), i):
                    i += 2
                    continue
                depth = int(c == "{")
            elif c in "\\#":
                return True
            elif c in "'\"":  # a string inside the field: under PEP 701 it may reuse the quote
                end = line.find(c, i + 1)
                if end == -1:
                    break
                newer = newer or line.startswith(quote, i) or "\\" in line[i:end]
                i = end
            else:
                depth += {"{": 1, "}": -1}.get(c, 0)
            i += 1
    return False


def newer_construct(exc: SyntaxError, line: str, target: Version = RUNNING) -> tuple[Version, str] | None:
    """(version needed, construct) when `exc` is a construct of a Python newer than `target`."""
    message = exc.msg or ""
    if match := ONLY_SUPPORTED.search(message):
        return (int(match.group(2)), int(match.group(3))), match.group(1).lower()
    if target < (3, 12):
        if TYPE_PARAMS.match(line):
            return (3, 12), "a type parameter list, PEP 695"
        if TYPE_ALIAS.match(line):
            return (3, 12), "a type alias statement, PEP 695"
        if pep701_fstring(line):
            return (3, 12), "an f-string with quotes, backslashes or comments inside {}, PEP 701"
    if target < (3, 14):
        if "multiple exception types must be parenthesized" in message and " as " not in line:
            return (3, 14), "except with several exception types and no parentheses, PEP 758"
        if TEMPLATE_STRING.search(line):
            return (3, 14), "a template string t'...', PEP 750"
    return None
