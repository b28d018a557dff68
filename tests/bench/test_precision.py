"""bench/precision.py: re-drawing after the code changed keeps the reading already done."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import precision
from bench.precision import TREES, draw, merge, read_tsv, report, tally


def finding(qid: str, hypothesis: str = "DEAD_CODE", question: str = "", where: str = "a.py:1") -> dict:
    return {"id": qid, "hypothesis": hypothesis, "question": question or f"q {qid}", "evidence": [where]}


@pytest.fixture
def docs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(precision, "DOCS", tmp_path)
    return tmp_path


def test_draw_is_deterministic_per_hypothesis_and_capped() -> None:
    findings = [finding(f"d{i}") for i in range(40)] + [finding(f"t{i}", "OPEN_TODO") for i in range(3)]
    first = draw(findings, seed=10, size=25)
    assert first == draw(list(reversed(findings)), seed=10, size=25)
    assert sum(q["hypothesis"] == "DEAD_CODE" for q in first) == 25
    assert sum(q["hypothesis"] == "OPEN_TODO" for q in first) == 3
    assert first != draw(findings, seed=11, size=25)


def test_rerun_keeps_verdicts_survivors_stay_drawn_and_gone_rows_are_kept(docs: Path) -> None:
    tree = TREES["django"]
    findings = [finding(f"d{i:02}") for i in range(40)]
    merge(tree, findings, seed=10, size=5)
    rows = read_tsv(docs / "django.tsv")
    for row in rows:
        row["verdict"], row["reason"] = "FP", "[public-api] read"
    precision.write_tsv(docs / "django.tsv", rows)
    drawn = [row["id"] for row in rows]

    # the code changed: two drawn findings are fixed away, 40 new ones appear (some outrank
    # the survivors: without keeping drawn rows, verdicts would be lost)
    later = [q for q in findings if q["id"] not in drawn[:2]] + [finding(f"n{i:02}") for i in range(40)]
    assert merge(tree, later, seed=10, size=5) == (5, 2)
    again = read_tsv(docs / "django.tsv")
    kept = [row for row in again if row["verdict"]]
    assert sorted(row["id"] for row in kept) == sorted(drawn[2:])
    assert {row["id"] for row in read_tsv(docs / "django.gone.tsv")} == set(drawn[:2])


def test_renamed_ids_match_by_text_and_changed_text_is_read_again(docs: Path) -> None:
    tree = TREES["kloros"]
    before = [
        finding("x1", question="Function 'a.f' unused"),
        finding("m1", "MISSING_DOCSTRINGS", "a.py has 4"),
    ]
    merge(tree, before, seed=1, size=25)
    rows = read_tsv(docs / "kloros.tsv")
    for row in rows:
        row["verdict"], row["reason"] = "TP", "checked"
    precision.write_tsv(docs / "kloros.tsv", rows)

    # a monitor was renamed (new ids); the docstring question now counts 3 names
    after = [
        finding("y1", question="Function 'a.f' unused"),
        finding("m1", "MISSING_DOCSTRINGS", "a.py has 3"),
    ]
    merge(tree, after, seed=1, size=25)
    got = {row["id"]: (row["verdict"], row["reason"]) for row in read_tsv(docs / "kloros.tsv")}
    assert got == {"y1": ("TP", "checked"), "m1": ("", "(re-read: was TP for 'a.py has 4': checked)")}


def test_tally_counts_verdicts_and_fp_patterns() -> None:
    rows = [
        {"hypothesis": "DEAD_CODE", "verdict": "TP", "reason": "unused"},
        {"hypothesis": "DEAD_CODE", "verdict": "FP", "reason": "[public-api] x"},
        {"hypothesis": "DEAD_CODE", "verdict": "FP", "reason": "no tag"},
        {"hypothesis": "DEAD_CODE", "verdict": "", "reason": ""},
    ]
    cell = tally(rows)["DEAD_CODE"]
    assert (cell["sampled"], cell["tp"], cell["fp"]) == (4, 1, 2)
    assert dict(cell["patterns"]) == {"public-api": 1, "untagged": 1}


def test_report_shows_precision_and_round1_next_to_it(docs: Path) -> None:
    (docs / "counts.json").write_text(
        '{"commit": "abc", "seed": 10, "size": 25, "trees": {"django": {"spec": "django==5.2.19",'
        ' "scanned": "bench/out/trees/django/django", "findings": {"DEAD_CODE": 10}}}}'
    )
    (docs / "round1.json").write_text(
        '{"commit": "old", "cells": {"django/DEAD_CODE": {"findings": 150, "sampled": 25, "tp": 0, "fp": 25,'
        ' "true": 0}, "django/UNDISCOVERED_MODULE": {"findings": 23, "sampled": 23, "tp": 0, "fp": 23, "true": 0}}}'
    )
    (docs / "patterns.md").write_text("intro\n## public-api\nA library's public name.\n")
    precision.write_tsv(
        docs / "django.tsv",
        [
            {"hypothesis": "DEAD_CODE", "id": "a", "evidence": "x:1", "verdict": "TP", "reason": "dead"},
            {
                "hypothesis": "DEAD_CODE",
                "id": "b",
                "evidence": "x:2",
                "verdict": "FP",
                "reason": "[public-api] y",
            },
        ],
    )
    text = report()
    assert "| django | DEAD_CODE | 10 | 2 | 1 | 1 | 50% | 5 | 150 | 0 |" in text
    assert "| django | UNDISCOVERED_MODULE | 0 | - | - | - | - | 0 | 23 | 0 |" in text
    assert "**public-api** (django 1)\n\nA library's public name.\n" in text


def test_each_wheel_tree_is_read_with_its_own_configuration(tmp_path: Path) -> None:
    """The trees are unpacked inside this repository, whose pyproject.toml says kind =
    "application": without a [tool.kloros] of its own, Django would be read as an application."""
    from monitors.config import load

    (tmp_path / "pyproject.toml").write_text('[tool.kloros]\nkind = "application"\n')  # the enclosing repo
    (tmp_path / ".git").mkdir()
    expected = {"django": "library", "pretix": "application", "homeassistant": "application"}
    for name, kind in expected.items():
        tree = TREES[name]
        root = tmp_path / name
        (root / tree.package).mkdir(parents=True)
        if tree.kind == "library":
            (root / f"{name}-1.0.dist-info").mkdir()
        (root / "pyproject.toml").write_text(tree.config)  # as fetch() writes it
        config = load(root)
        assert (config.kind, config.extra["source"]) == (kind, str(root / "pyproject.toml"))
    assert len(load(tmp_path / "homeassistant").endpoints) == 12
