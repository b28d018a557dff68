"""Inline SVG charts: one mark per value, gaps for missing data, escaped text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kloros_site.dashboard import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # also proves the markup is well-formed


def test_bar_chart_draws_one_bar_per_non_zero_value():
    svg = parse(
        charts.bar_chart(
            "Questions",
            ["10:00", "10:05", "10:10"],
            [charts.Series("opened", [3, 0, 1], "#f00"), charts.Series("resolved", [0, 2, 0], "#0f0")],
        )
    )
    bars = svg.findall(f"{SVG}rect[@class='bar']")
    assert len(bars) == 3
    heights = sorted(float(bar.get("height")) for bar in bars)
    assert heights[0] < heights[1] < heights[2]  # 1 < 2 < 3


def test_line_chart_breaks_at_missing_buckets():
    svg = parse(
        charts.line_chart(
            "Latency",
            ["a", "b", "c", "d", "e"],
            [charts.Series("p50", [1, 2, None, 4, 5], "#00f")],
            unit=" ms",
        )
    )
    assert len(svg.findall(f"{SVG}circle")) == 4
    lines = svg.findall(f"{SVG}polyline")
    assert [len(line.get("points").split()) for line in lines] == [2, 2]


def test_empty_charts_still_render_axes():
    svg = parse(charts.line_chart("Latency", [], [charts.Series("p50", [], "#00f")]))
    assert svg.findall(f"{SVG}line")
    assert not svg.findall(f"{SVG}polyline")


def test_text_is_escaped():
    svg = charts.bar_chart("<script>", ["<b>"], [charts.Series("a&b", [1], "#000")])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert parse(svg).find(f"{SVG}title").text == "<script>"
