"""The picture of the wiring: three columns, orphans marked, wildcards between topics and
subscribers, and still a drawing with readable labels at 200 channels."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from kloros_site.analysis import channels, wiring
from monitors.scan import scan_tree
from tests.kloros_site.analysis.wiring_tree import write_tree


@pytest.fixture(autouse=True)
def graphviz():
    assert shutil.which("dot"), "Graphviz's dot is missing: run scripts/browser.sh (test.sh does)"


def channel_map(root: Path) -> channels.ChannelMap:
    store, _ = scan_tree(root)
    return channels.from_postings(store.index)


def test_producers_left_consumers_right_orphans_filled(tmp_path):
    (tmp_path / "a.py").write_text(
        'ChemPub().emit("jobs.done")\nChemPub().emit("jobs.lost")\nChemSub("jobs.done")\n'
    )
    (tmp_path / "b.py").write_text('ChemSub("jobs.*")\nChemSub("ghost.topic")\n')
    cmap = channel_map(tmp_path)
    assert {c.name: c.state for c in cmap.sorted()} == {
        "ghost.topic": "no producer",
        "jobs.*": "wired",
        "jobs.done": "wired",
        "jobs.lost": "wired",  # the wildcard consumes it
    }
    source = wiring.to_dot(cmap.sorted())
    # a module that emits and subscribes stands in both columns
    assert '"p:a" -> "c:jobs.done"' in source and '"c:jobs.done" -> "s:a"' in source
    assert '"c:jobs.lost" -> "c:jobs.*" [style=dashed' in source and '"c:jobs.*" -> "s:b"' in source
    assert "rank=source" in source and "rank=sink" in source
    svg = wiring.render_svg(source)
    assert "(no producer)" in svg and wiring.COLORS["no producer"][0] in svg


def test_two_hundred_channels_draw_with_readable_labels(tmp_path):
    cmap = channel_map(write_tree(tmp_path))
    chosen = wiring.select(cmap)
    assert len(chosen) >= 200
    svg = wiring.render_svg(wiring.to_dot(chosen))
    drawn = [
        t for t in re.findall(r"<title>c:([^<]+)</title>", svg) if "&#45;&gt;" not in t
    ]  # nodes, not edges
    assert len(drawn) == len(chosen)
    # laid out at its natural size: labels keep their 11 pt, nothing is shrunk to fit
    sizes = {float(s) for s in re.findall(r'font-size="([\d.]+)"', svg)}
    assert min(sizes) >= 10
    width = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
    assert width < 1200  # three columns, not one row of 200 boxes


def test_package_selection_and_grouping(tmp_path):
    cmap = channel_map(write_tree(tmp_path))
    audio = wiring.select(cmap, package="audio")
    assert audio and all(any(m.startswith("audio") for m in c.modules()) for c in audio)
    grouped = wiring.to_dot(audio, depth=1)
    assert '"p:audio" -> ' in grouped and "emitter_" not in grouped


def test_command_draws_a_tree_without_a_database(tmp_path, capsys):
    (tmp_path / "a.py").write_text('ChemPub().emit("jobs.done")\n')
    out = tmp_path / "map.svg"
    call_command("channelmap", str(tmp_path), "-o", str(out))
    assert out.read_text().lstrip().startswith("<?xml") and "jobs.done" in out.read_text()
    assert "1 channels (1 orphaned)" in capsys.readouterr().out
