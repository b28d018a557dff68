"""A tree wired the way real systems are: each package owns a namespace of topics, emitted by one
of its modules and consumed by modules of one to three other packages; a few orphans."""

from __future__ import annotations

import random
from pathlib import Path

NAMESPACES = [
    "audio",
    "vision",
    "memory",
    "planner",
    "dialog",
    "sensors",
    "motion",
    "health",
    "storage",
    "net",
]


def write_tree(root: Path, channels: int = 200, seed: int = 12) -> Path:
    rng = random.Random(seed)
    per = channels // len(NAMESPACES)
    calls: dict[str, list[str]] = {}
    for n, namespace in enumerate(NAMESPACES):
        for k in range(per):
            topic = f"{namespace}.event_{k:02d}"
            owner = f"{namespace}/emitter_{k % 3}.py"
            if rng.random() > 0.04:  # a few topics nobody emits any more
                calls.setdefault(owner, []).append(f'bus.emit("{topic}")')
            if rng.random() > 0.06:  # and a few nobody listens to
                for other in rng.sample([x for x in NAMESPACES if x != namespace], rng.randint(1, 3)):
                    listener = f"{other}/listener_{(n + k) % 2}.py"
                    calls.setdefault(listener, []).append(f'ChemSub("{topic}")')
    calls.setdefault("health/monitor.py", []).append('ChemSub("health.#")')
    for rel, lines in calls.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        body = "\n".join(f"    {line}" for line in lines)
        path.write_text(f'"""{rel}"""\n\nfrom bus import ChemPub\n\n\ndef wire(bus: ChemPub):\n{body}\n')
    return root
