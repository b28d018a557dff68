"""`python -m monitors PATH [--format json|text|sarif]`: a batch scan, no database or broker.

stdout carries only the report (JSON: an array of question objects); files that could
not be analyzed are listed on stderr (in SARIF, as tool execution notifications).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitors.facts import AnalysisError
from monitors.question import Question
from monitors.registry import MONITORS
from monitors.scan import gc_paused, scan_tree

SARIF_LEVELS = {"high": "error", "medium": "warning", "low": "note"}
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def ordered(questions: dict[str, Question]) -> list[Question]:
    return sorted(questions.values(), key=lambda q: (q.monitor, q.hypothesis, q.evidence, q.id))


def location(evidence: str) -> tuple[str, int]:
    path, _, line = evidence.rpartition(":")
    return path, int(line) if line.isdigit() else 1


def as_json(questions: list[Question]) -> str:
    return json.dumps([q.to_json() for q in questions], indent=2)


def as_text(questions: list[Question]) -> str:
    lines = []
    for q in questions:
        lines.append(f"{q.evidence[0] if q.evidence else '-'}: [{q.severity}] {q.hypothesis} {q.question}")
        lines.extend(f"    also {where}" for where in q.evidence[1:])
    lines.append(f"{len(questions)} question(s)")
    return "\n".join(lines)


def as_sarif(questions: list[Question], errors: dict[str, AnalysisError]) -> str:
    rules = sorted({(q.hypothesis, q.monitor) for q in questions})
    results: list[dict[str, Any]] = []
    for q in questions:
        locations = []
        for where in q.evidence:
            path, line = location(where)
            physical = {
                "artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": line},
            }
            locations.append({"physicalLocation": physical})
        results.append(
            {
                "ruleId": q.hypothesis,
                "level": SARIF_LEVELS[q.severity],
                "message": {"text": q.question},
                "locations": locations[:1],
                "relatedLocations": [dict(loc, id=i) for i, loc in enumerate(locations[1:], 1)],
                "partialFingerprints": {"questionId/v1": q.id},
                "properties": {"capability_key": q.capability_key, "monitor": q.monitor},
            }
        )
    notifications = [
        {
            "level": "warning",
            "message": {"text": f"{error.reason}: {error}"},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": "%SRCROOT%"}}}
            ],
        }
        for path, error in sorted(errors.items())
    ]
    driver = {
        "name": "kloros-monitors",
        "informationUri": "https://example.invalid/kloros-monitors",
        "rules": [
            {
                "id": hypothesis,
                "name": hypothesis,
                "shortDescription": {"text": f"{monitor} monitor: {hypothesis}"},
            }
            for hypothesis, monitor in rules
        ],
    }
    run = {
        "tool": {"driver": driver},
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "results": results,
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitors", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="root of the tree to scan")
    parser.add_argument("--format", choices=("json", "text", "sarif"), default="text")
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="NAME",
        help="skip files and directories with this name anywhere in the tree (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if not args.path.is_dir():
        print(f"error: {args.path} is not a directory", file=sys.stderr)
        return 2
    excluded = set(args.exclude)
    ignore = (lambda rel: not excluded.isdisjoint(rel.split("/"))) if excluded else None
    with gc_paused():
        store, errors = scan_tree(args.path, ignore)
    questions = ordered(store.all_questions())
    if args.format == "sarif":
        print(as_sarif(questions, errors))
    else:
        print(as_json(questions) if args.format == "json" else as_text(questions))
    for path, error in sorted(errors.items()):
        print(f"{path}: not analyzed ({error.reason}): {error}", file=sys.stderr)
    monitors = ", ".join(sorted(MONITORS))
    if args.format == "text":
        print(f"monitors: {monitors}; {len(errors)} file(s) not analyzed", file=sys.stderr)
    return 0
