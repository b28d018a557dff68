"""Charts as inline SVG, rendered on the server: no JavaScript, no CDN, nothing to install."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH = 640
HEIGHT = 200
PAD_LEFT = 64  # room for "1.5 s" and "250 ms"
PAD_RIGHT = 12
PAD_TOP = 12
PAD_BOTTOM = 28


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # None: no data in that bucket (a gap in a line)
    color: str


def _nice_max(value: float) -> float:
    """A round axis maximum at or above `value`, so the gridlines get readable labels."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def _fmt(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def _label(value: float, unit: str) -> str:
    """An axis or point label; milliseconds from a second up read as seconds ("1.5 s", not "1500 ms")."""
    if unit.strip() == "ms" and value >= 1000:
        return f"{_fmt(value / 1000)} s"
    return f"{_fmt(value)}{unit}"


def _frame(
    title: str, labels: Sequence[str], top: float, unit: str, body: list[str], legend: list[Series]
) -> str:
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    parts = [
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(5):
        y = PAD_TOP + plot_h * i / 4
        value = top * (4 - i) / 4
        parts.append(
            f'<line class="grid" x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        parts.append(
            f'<text class="axis" x="{PAD_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{escape(_label(value, unit))}</text>"
        )
    # a handful of time labels is readable; thirty is not
    n = len(labels)
    for i in range(0, n, max(1, n // 6)):
        x = PAD_LEFT + plot_w * (i + 0.5) / n
        parts.append(
            f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="middle">{escape(labels[i])}</text>'
        )
    parts.extend(body)
    for i, series in enumerate(legend):
        x = PAD_LEFT + 8 + i * 110
        parts.append(
            f'<rect x="{x}" y="{PAD_TOP + 2}" width="10" height="10" fill="{series.color}"/>'
            f'<text class="legend" x="{x + 14}" y="{PAD_TOP + 11}">{escape(series.name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "") -> SafeString:
    """Grouped bars, one group per label (counts: the axis never shows fractions of one)."""
    top = max(4.0, _nice_max(max((v or 0 for s in series for v in s.values), default=0)))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    group = plot_w / max(1, len(labels))
    bar = group * 0.8 / max(1, len(series))
    body = []
    for s_index, s in enumerate(series):
        for i, value in enumerate(s.values):
            if not value:
                continue
            h = plot_h * value / top
            x = PAD_LEFT + group * i + group * 0.1 + bar * s_index
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{PAD_TOP + plot_h - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" fill="{s.color}"><title>{escape(s.name)} {escape(labels[i])}: '
                f"{escape(_label(value, unit))}</title></rect>"
            )
    return mark_safe(_frame(title, labels, top, unit, body, list(series)))


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series], unit: str = "") -> SafeString:
    """Lines with a dot per point; a bucket without data breaks the line."""
    top = _nice_max(max((v for s in series for v in s.values if v is not None), default=0))
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    n = max(1, len(labels))
    body = []
    for s in series:
        segments: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                segments.append([])
                continue
            x = PAD_LEFT + plot_w * (i + 0.5) / n
            y = PAD_TOP + plot_h - plot_h * value / top
            segments[-1].append((x, y))
            body.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{s.color}">'
                f"<title>{escape(s.name)} {escape(labels[i])}: {escape(_label(value, unit))}</title></circle>"
            )
        for points in segments:
            if len(points) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
                body.append(
                    f'<polyline class="line" fill="none" stroke="{s.color}" stroke-width="2" points="{path}"/>'
                )
    return mark_safe(_frame(title, labels, top, unit, body, list(series)))


def meter(value: int, total: int) -> SafeString:
    """A small horizontal bar for tables of counts."""
    width = 0 if total <= 0 else max(1, round(120 * value / total))
    # scales with its cell: a fixed width overflowed narrow cards next to long hypothesis names
    return format_html(
        '<svg class="meter" width="100%" height="10" viewBox="0 0 120 10" preserveAspectRatio="none" '
        'aria-hidden="true"><rect width="{}" height="10" fill="#417690"/></svg>',
        width,
    )
