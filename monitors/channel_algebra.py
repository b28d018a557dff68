"""The value algebra of the channel evaluator: what a topic expression can be.

A value is a list of alternatives, each a tuple of parts: a literal string, a Param (whatever
a caller passes) or a Sym (a name another module of the tree defines); None is unknown. It is
separate from the scopes (monitors/channel_bindings.py) and the recorder
(monitors/channel_scopes.py) because the records (monitors/channel_records.py) use it alone.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_ALTS = 32  # beyond this a value is unknown: a topic built from a cross product is no topic


@dataclass(frozen=True, slots=True)
class Param:
    callable: str  # the dotted name its call sites call: "pkg.mod.fire", "pkg.mod.Listener" (constructor)
    name: str


@dataclass(frozen=True, slots=True)
class Sym:
    dotted: str  # "pkg.topics.ORDER": defined by another module, which posts its values


Part = str | Param | Sym
Alt = tuple[Part, ...]
Values = list[Alt] | None  # None: unknown


def join(alts: list[Alt]) -> list[Alt]:
    """Merge adjacent literals; drop alternatives with more than one unknown part."""
    out = []
    for alt in alts:
        parts: list[Part] = []
        for part in alt:
            if isinstance(part, str) and parts and isinstance(parts[-1], str):
                parts[-1] += part
            elif part != "":
                parts.append(part)
        if sum(not isinstance(p, str) for p in parts) <= 1:
            out.append(tuple(parts) if parts else ("",))
    return out


def concat(left: Values, right: Values) -> Values:
    if left is None or right is None or len(left) * len(right) > MAX_ALTS:
        return None
    return join([a + b for a in left for b in right])


def union(values: list[Values]) -> Values:
    known = [v for v in values if v is not None]
    if not known:
        return None
    out: list[Alt] = []
    for alts in known:
        out += [a for a in alts if a not in out]
    return out if len(out) <= MAX_ALTS else None
