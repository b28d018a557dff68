"""Calls into other modules of the tree, resolved when the channels monitor evaluates a topic.

A file records a call into another module with the value it passes ("calls", channel_tree);
what the call does only the modules it lands in know, from what they post: how their functions
take a topic (wrapper:), what their objects and class attributes are (instance:), the bases of
their classes (bases:), and the configured endpoint table.
"""

from __future__ import annotations

from monitors.channel_endpoints import table_for
from monitors.registry import Lookup

MAX_DEPTH = 6  # wrappers of wrappers across modules


def endpoint_of(target: str, slot: str, lookup: Lookup, depth: int = 0) -> tuple[str, str] | None:
    """(role, bus) of passing a topic to `target` at `slot`, as the module defining `target` says;
    the bus is the owner of the configured endpoint ("" through a wrapper)."""
    if depth > MAX_DEPTH:
        return None
    # a configured endpoint first: EventBus.async_fire also wraps async_fire_internal in the tree
    for endpoint in table_for(lookup.config).match(target):
        if slot == endpoint.keyword or (endpoint.position is not None and slot == str(endpoint.position)):
            return endpoint.role, endpoint.callable.rpartition(".")[0]
    for specs in lookup(f"wrapper:{target}").values():
        for role, pos, kw, tpl, forward, forward_slot in specs:
            if (slot == kw or (pos is not None and slot == str(pos))) and tpl == [None]:
                found = (
                    endpoint_of(forward, forward_slot, lookup, depth + 1) if role == "forward" else (role, "")
                )
                if found:
                    return found
    owner, _, method = target.rpartition(".")
    if owner and depth < MAX_DEPTH:
        for cls in classes_of(owner, lookup, depth):
            found = endpoint_of(f"{cls}.{method}", slot, lookup, depth + 1)
            if found:
                return found
    return None


def classes_of(owner: str, lookup: Lookup, depth: int) -> list[str]:
    """The classes the object `owner` names may be an instance of: `HomeAssistant.bus` is an
    EventBus; `KodiEntity.hass.bus` too, when a base of KodiEntity declares `hass: HomeAssistant`."""
    found = sorted({cls for classes in lookup(f"instance:{owner}").values() for cls in classes})
    prefix, _, attr = owner.rpartition(".")
    if found or not prefix or depth >= MAX_DEPTH:
        return found
    for holder in [prefix, *classes_of(prefix, lookup, depth + 1)]:
        for cls in lineage(holder, lookup):
            found += [c for classes in lookup(f"instance:{cls}.{attr}").values() for c in classes]
        if found:
            break
    return sorted(set(found))


def lineage(cls: str, lookup: Lookup) -> list[str]:
    """The class and its bases in the tree, nearest first (as far as MAX_DEPTH)."""
    out, todo = [cls], [cls]
    while todo and len(out) <= MAX_DEPTH * 4:
        for classes in lookup(f"bases:{todo.pop(0)}").values():
            for base in classes:
                if base not in out:
                    out.append(base)
                    todo.append(base)
    return out


def open_buses(lookup: Lookup) -> set[str]:
    """Buses with a subscription whose topic arrives in a message or configuration
    (`hass.bus.async_listen(msg["event_type"], ...)`): the application's clients consume on them
    whatever topics they choose, so no topic fired there is provably without a consumer."""
    found: set[str] = set()
    for calls in lookup("received:all").values():
        for target, slot, _line in calls:
            end = endpoint_of(target, slot, lookup)
            if end and end[0] == "consumer" and end[1]:
                found.add(end[1])
    return found
