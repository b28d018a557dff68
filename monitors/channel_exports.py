"""What other modules of the tree need from this one to finish resolving their channels.

Constants whose values may be topics (posted by value, so an endpoint elsewhere that names the
constant finds its topic), module-level objects and attributes made by constructors (`bus =
ChemPub()`, `self.bus = EventBus()`: calls on them elsewhere resolve through their class),
Django signals defined here, how this module's classes inherit endpoints and wrappers, and
in-process queues put to and never got from.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from monitors.channel_bindings import ClassInfo, last_name
from monitors.channel_endpoints import QUEUE_GETS, QUEUE_PUTS, TOPIC, is_queue_class, is_signal_class

if TYPE_CHECKING:
    from monitors.channel_facts import ChannelCollector


def module_objects(c: ChannelCollector) -> None:
    module = c.facts.module
    for name, bindings in c.module.names.items():
        for value, scope, path in bindings:
            made = c.ev.obj(value, scope) if isinstance(value, ast.Call) and not path else None
            if made and made[0] == "instance" and made[2] != "stdlib":
                c.out.instances.add((f"{module}.{name}", made[1]))
                if is_signal_class(made[1]):
                    # documented for plugins, or kept for old ones (pretix: DeprecatedSignal)
                    external = name in c.documented or made[1].rpartition(".")[2].startswith("Deprecated")
                    c.out.signals.add((f"{module}.{name}", value.lineno, external))
        if name.isupper():
            constant(c, f"{module}.{name}", bindings)
    for cls in c.classes.values():
        enum = cls.enum
        for name, bindings in cls.body_names.items():
            if enum or name.isupper():
                constant(c, f"{cls.qualname}.{name}", bindings)
        class_objects(c, cls)


def class_objects(c: ChannelCollector, cls: ClassInfo) -> None:
    """What a class's instances hold, and its bases in the tree: `obj.bus.fire()` elsewhere, and
    `self.hass.bus` in a subclass of another module, resolve through these (channel_resolve.classes_of)."""
    for attr, note in cls.annotated.items():  # hass: HomeAssistant = None
        typ = c.ev.annotated_obj(note, cls.env or c.module)
        if typ is not None:
            c.out.instances.add((f"{cls.qualname}.{attr}", typ[1]))
    for base, origin in c.bases(cls):
        if origin in ("local", "tree"):
            c.out.bases.add((cls.qualname, base))
    for attr, bindings in cls.attrs.items():  # self.bus = EventBus()
        for value, scope, path in bindings:
            made = c.ev.obj(value, scope) if isinstance(value, ast.Call) and not path else None
            if made and made[0] == "instance" and made[2] not in ("stdlib", "unbound"):
                c.out.instances.add((f"{cls.qualname}.{attr}", made[1]))


def constant(c: ChannelCollector, dotted: str, bindings: list) -> None:
    for binding in bindings:
        for item in c.ev.bound(binding):
            vals = c.ev.item_values(item)
            if vals is None:
                vals = [a for i in c.ev.items_of(item) or [] for a in c.ev.item_values(i) or []]
            for alt in vals:
                if len(alt) == 1 and isinstance(alt[0], str) and alt[0] and TOPIC.fullmatch(alt[0]):
                    c.out.consts.add((dotted, alt[0]))


def queues(c: ChannelCollector) -> None:
    got = queue_gets(c)
    found: dict[ClassInfo, set[str]] = {}
    for cls, attr, value, env in c.queue_candidates:
        if (cls, attr) in got or not isinstance(value, ast.Call):
            continue
        made = c.ev.obj(value, env)
        if made and made[0] == "instance" and is_queue_class(made[1]):
            found.setdefault(cls, set()).add(attr)
    for cls, attrs in found.items():  # rare: walk the class for iteration and hand-offs
        if cls.node is None:
            continue
        for attr, (puts, consumed) in sorted(queue_uses(cls.node, attrs).items()):
            if puts and not consumed:
                c.out.queues.append((cls.qualname, attr, sorted(puts)))


def queue_gets(c: ChannelCollector) -> set[tuple[ClassInfo, str]]:
    """`x.<attr>.get()` anywhere (posted: other modules' queues may be got from here), and the
    (class, attr) pairs a class gets from itself through `self.<attr>`."""
    got: set[tuple[ClassInfo, str]] = set()
    for name in QUEUE_GETS:
        for node, env in c.calls.get(name, ()):
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            if not isinstance(receiver, ast.Attribute):
                continue
            if (
                env.cls is not None
                and isinstance(receiver.value, ast.Name)
                and receiver.value.id == env.self_name
            ):
                got.add((env.cls, receiver.attr))
            plain = all(isinstance(a, ast.Constant) and not isinstance(a.value, str) for a in node.args)
            if plain and (name.startswith("get") or not node.args):  # not dict.get(key), list.pop(i)
                c.out.queue_reads.add(receiver.attr)
    return got


def export_wrappers(c: ChannelCollector) -> None:
    """Subclasses inherit how their bases take topics; callers in other modules call them by their own name."""
    c.out.wrappers = {k: set(v) for k, v in c.wrappers.items()}
    endpoint_bases = any(last_name(b) in c.table.classes for k in c.classes.values() for b in k.bases)
    if not endpoint_bases and not c.wrappers:
        return
    for cls in c.classes.values():
        names = set(c.table.names) | {
            m for anc in c.ev.ancestors(cls) for m in anc.methods if f"{anc.qualname}.{m}" in c.wrappers
        }
        for method in sorted(names - cls.methods.keys()):
            found = c.specs(f"{cls.qualname}.{method}")
            if found:
                c.out.wrappers.setdefault(f"{cls.qualname}.{method}", set()).update(found)
        if "__init__" not in cls.methods and (found := c.specs(cls.qualname)):
            c.out.wrappers.setdefault(cls.qualname, set()).update(found)


def queue_uses(node: ast.ClassDef, attrs: set[str]) -> dict[str, tuple[list[int], bool]]:
    """Per queue attribute: lines that put to it, and whether anything else touches it (gets,
    iterates, passes it on): anything but a put counts as a consumer. Stops once all are consumed."""
    selves = {"self", "cls"}
    puts: dict[str, list[int]] = {attr: [] for attr in attrs}
    consumed: set[str] = set()

    def self_attr(expr: ast.AST) -> str | None:
        if isinstance(expr, ast.Attribute) and expr.attr in attrs and isinstance(expr.value, ast.Name):
            return expr.attr if expr.value.id in selves and isinstance(expr.ctx, ast.Load) else None
        return None

    def scan(sub: ast.AST) -> bool:  # False: everything is consumed, stop
        if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) and sub.args.args:
            selves.add(sub.args.args[0].arg)
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and (attr := self_attr(sub.func.value))
        ):
            if sub.func.attr in QUEUE_PUTS:
                puts[attr].append(sub.lineno)
            else:
                consumed.add(attr)
            children = [*sub.args, *sub.keywords]
        elif attr := self_attr(sub):
            consumed.add(attr)
            children = []
        else:
            children = list(ast.iter_child_nodes(sub))
        return len(consumed) < len(attrs) and all(scan(child) for child in children)

    scan(node)
    return {attr: (lines, attr in consumed) for attr, lines in puts.items()}
