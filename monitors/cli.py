"""`python -m monitors PATH [--format json|text|sarif]`: a batch scan, no database or broker.

stdout carries only the report (JSON: an array of question objects); files that could
not be analyzed are listed on stderr (in SARIF, as tool execution notifications).
The tree's `[tool.kloros]` configuration and its `# kloros: ignore[...]` comments apply;
a suppression that answers nothing is itself reported (UNUSED_SUPPRESSION).

Exit status: 0 no questions (or --exit-zero), 1 questions remain, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from monitors.config import ConfigError, load
from monitors.facts import AnalysisError
from monitors.question import Question
from monitors.registry import MONITORS
from monitors.scan import gc_paused, import_root, scan_tree, unused_suppressions

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


def read_baseline(path: Path) -> set[str]:
    """Question ids of a previous report: this CLI's JSON (or SARIF) output. Raises ConfigError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"baseline {path}: {exc}") from None
    if isinstance(data, dict) and "runs" in data:
        results = [r for run in data["runs"] for r in run.get("results", [])]
        data = [{"id": r.get("partialFingerprints", {}).get("questionId/v1")} for r in results]
    if not isinstance(data, list) or not all(
        isinstance(q, dict) and isinstance(q.get("id"), str) for q in data
    ):
        raise ConfigError(f"baseline {path}: not a report of `python -m monitors --format json`")
    return {q["id"] for q in data}


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m monitors", description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="root of the tree to scan")
    parser.add_argument("--format", choices=("json", "text", "sarif"), default="text")
    parser.add_argument(
        "--exclude", action="append", default=[], metavar="PATTERN",
        help="leave out files and folders matching this gitignore-style pattern (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--config", type=Path, metavar="FILE",
        help="read [tool.kloros] from this TOML file instead of the tree's nearest pyproject.toml",
    )  # fmt: skip
    parser.add_argument(
        "--baseline", type=Path, metavar="FILE",
        help="report only questions not in FILE, an earlier --format json report",
    )  # fmt: skip
    parser.add_argument(
        "--write-baseline", type=Path, metavar="FILE",
        help="write every current question to FILE (JSON) as the new baseline, and exit 0",
    )  # fmt: skip
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when questions remain")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)  # a usage error exits with status 2
    if not args.path.is_dir():
        print(f"error: {args.path} is not a directory", file=sys.stderr)
        return 2
    try:
        config = load(import_root(args.path), args.config)
        known = read_baseline(args.baseline) if args.baseline else set()
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    with gc_paused():
        store, errors = scan_tree(args.path, config=config, patterns=args.exclude)
        questions = ordered(store.all_questions()) + unused_suppressions(store, config)
    if args.write_baseline:
        try:
            args.write_baseline.write_text(as_json(questions) + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"error: cannot write the baseline: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {len(questions)} question(s) to {args.write_baseline}", file=sys.stderr)
        return 0
    shown = [q for q in questions if q.id not in known]
    if args.format == "sarif":
        print(as_sarif(shown, errors))
    else:
        print(as_json(shown) if args.format == "json" else as_text(shown))
    for path, error in sorted(errors.items()):
        print(f"{path}: not analyzed ({error.reason}): {error}", file=sys.stderr)
    if args.baseline:
        print(
            f"{len(questions) - len(shown)} question(s) in the baseline {args.baseline} not shown",
            file=sys.stderr,
        )
    if args.format == "text":
        monitors = ", ".join(sorted(MONITORS))
        source = config.extra.get("source") or "no [tool.kloros] configuration"
        print(f"monitors: {monitors}; {source}; {len(errors)} file(s) not analyzed", file=sys.stderr)
    return 1 if shown and not args.exit_zero else 0
