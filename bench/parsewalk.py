"""`python -m bench.parsewalk ROOT`: read, parse and walk every .py file once: the floor any
AST-based analyzer of the tree pays (the batch CLI's target is within 1.5x of it)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def main(root: Path) -> int:
    nodes = 0
    for path in sorted(root.rglob("*.py")):
        try:
            tree = ast.parse(path.read_bytes(), filename=str(path))
        except (SyntaxError, ValueError):
            continue
        nodes += sum(1 for _ in ast.walk(tree))
    print(f"{nodes} nodes")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
