"""The picture of the wiring: modules and channels as a Graphviz graph, laid out server-side.

Modules that emit stand in the left column, modules that subscribe in the right one, channels
between them (`rankdir=LR`); a wildcard subscription sits between the topics it matches and its
subscribers. Orphans are filled:
red for a channel nobody consumes, orange for one nobody produces or a wildcard matching nothing.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache

from kloros_site.analysis.channels import Channel, ChannelMap
from monitors.facts import is_test_path, module_name

COLORS = {
    "module": ("#e8f1f8", "#417690"),
    "wired": ("#ffffff", "#5b7f95"),
    "no consumer": ("#fde2e2", "#ba2121"),
    "no producer": ("#fff1d6", "#c77700"),
    "matches nothing": ("#fff1d6", "#c77700"),
}


class GraphvizMissing(RuntimeError):
    pass


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _attrs(**values: str) -> str:
    return "[" + ", ".join(f"{k}={_quote(v)}" for k, v in values.items() if v != "") + "]"


def module_label(path: str, depth: int = 0) -> str:
    name = module_name(path) or path
    return ".".join(name.split(".")[:depth]) if depth > 0 else name


def select(cmap: ChannelMap, *, package: str = "", tests: bool = False) -> list[Channel]:
    """The channels to draw: those touching `package` (a dotted prefix), test-only ones left out."""
    chosen = []
    for channel in cmap.sorted():
        if not tests and channel.only_tests:
            continue
        if package and not any(m == package or m.startswith(package + ".") for m in channel.modules()):
            continue
        chosen.append(channel)
    return chosen


def to_dot(
    channels: list[Channel],
    *,
    depth: int = 0,
    tests: bool = False,
    channel_url: Callable[[str], str] | None = None,
) -> str:
    """DOT source in three columns: modules that emit (left), channels and wildcard subscriptions
    (middle), modules that subscribe (right). A module doing both stands in both columns: drawn
    once, its arrows would loop back and the picture would lose its left-to-right reading."""
    lines = [
        "digraph wiring {",
        # concentrate: arrows into one module share their last stretch instead of fanning out
        '  graph [rankdir=LR, ranksep=1.0, nodesep=0.12, concentrate=true, fontname="Helvetica", bgcolor="transparent"];',
        '  node [fontname="Helvetica", fontsize=11, shape=box, style="rounded,filled", height=0.3, margin="0.12,0.04"];',
        '  edge [color="#7a93a6", arrowsize=0.6];',
    ]
    producers: set[str] = set()
    consumers: set[str] = set()
    edges: set[tuple[str, str, str]] = set()
    shown = {c.name for c in channels}

    def ends(locations) -> set[str]:
        return {module_label(loc.path, depth) for loc in locations if tests or not is_test_path(loc.path)}

    namespaces: dict[str, list[str]] = {}
    for channel in channels:
        fill, border = COLORS.get(channel.state, COLORS["wired"])
        label = channel.name if channel.state == "wired" else f"{channel.name}\n({channel.state})"
        node = f"c:{channel.name}"
        url = channel_url(channel.name) if channel_url else ""
        style = "rounded,filled,dashed" if channel.wildcard else "rounded,filled"
        tooltip = f"{channel.name}: {channel.state}"
        namespaces.setdefault(channel.name.split(".")[0], []).append(
            f"{_quote(node)} {_attrs(label=label, fillcolor=fill, color=border, style=style, URL=url, tooltip=tooltip, penwidth='1.4')};"
        )
        for module in ends(channel.producers):
            producers.add(module)
            edges.add((f"p:{module}", node, "produces"))
        for module in ends(channel.consumers):
            consumers.add(module)
            edges.add((node, f"s:{module}", "consumes"))
        if channel.wildcard:
            for topic in channel.matches:
                if topic in shown:
                    edges.add((f"c:{topic}", node, "matches"))
    # the channels of one namespace ("audio.*") are boxed together: a reader looks for a topic by its first word
    for i, (namespace, nodes) in enumerate(sorted(namespaces.items())):
        boxed = len(namespaces) > 1 and len(nodes) > 1
        if boxed:
            lines.append(
                f'  subgraph cluster_{i} {{ label={_quote(namespace)}; labeljust=l; fontsize=10; fontcolor="#5b7f95"; '
                'style="rounded,dashed"; color="#c9d6df";'
            )
        lines += [("    " if boxed else "  ") + node for node in nodes]
        if boxed:
            lines.append("  }")
    fill, border = COLORS["module"]
    for prefix, modules, rank in (("p", producers, "source"), ("s", consumers, "sink")):
        lines.append(f"  subgraph {prefix}_column {{ rank={rank};")
        for module in sorted(modules):
            lines.append(
                f"    {_quote(f'{prefix}:{module}')} {_attrs(label=module, fillcolor=fill, color=border)};"
            )
        lines.append("  }")
    for tail, head, kind in sorted(edges):
        style = ' [style=dashed, color="#a0a0a0"]' if kind == "matches" else ""
        lines.append(f"  {_quote(tail)} -> {_quote(head)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_source: str, fmt: str = "svg") -> bytes:
    """Lay out with Graphviz's `dot` into `fmt` (svg, png, pdf)."""
    try:
        done = subprocess.run(
            [settings.KLR_GRAPHVIZ_DOT, f"-T{fmt}"],
            input=dot_source.encode(),
            capture_output=True,
            timeout=settings.KLR_MAP_TIMEOUT_SECONDS,
            check=True,
        )
    except FileNotFoundError as exc:
        raise GraphvizMissing(
            f"Graphviz's `{settings.KLR_GRAPHVIZ_DOT}` is not installed (apt-get install graphviz)"
        ) from exc
    return done.stdout


def render_svg(dot_source: str) -> str:
    """The map as inline SVG; cached by the source's digest (a big map takes seconds to lay out)."""
    key = "kloros:map:" + hashlib.sha256(dot_source.encode()).hexdigest()
    svg = cache.get(key)
    if svg is not None:
        return svg
    svg = render(dot_source).decode()
    # drop the XML prologue and doctype: the SVG goes inline into a page
    svg = svg[svg.index("<svg") :]
    cache.set(key, svg, 3600)
    return svg
