"""Precision of every hypothesis on real trees, read by hand (issue 10's measurement).

    python -m bench.precision [--trees django,pretix,homeassistant,kloros] [--seed 10] [--size 25]
    python -m bench.precision --report            # docs/PRECISION.md from the read samples
    python -m bench.precision --freeze-round1     # keep today's totals as the "old" counts

A run fetches each tree (a pinned PyPI wheel, unpacked under bench/out/trees/; this project
is a `git archive` of HEAD), scans it with the batch CLI (`python -m monitors TREE --format
json`) and draws a sample of up to --size findings per hypothesis into
docs/precision/<tree>.tsv, where a person writes a verdict (TP/FP) and a one-line reason.

The sample is a bottom-k sample: every question id gets a rank sha256(seed:id) and the k
lowest are drawn. That is a uniform random sample, the same one on every run while the
findings do not change, and when they do change it keeps every drawn id that is still found
unless a new id outranks it: re-running after the code changed keeps the verdicts already
given (merged by question id) and leaves only the newly drawn rows blank. Rows whose
question is no longer found move to docs/precision/<tree>.gone.tsv (history of what a fix
removed, with the verdict it had).

A false positive's reason starts with a pattern tag in brackets, "[public-api] ...": the
report counts FPs per tag and prints the pattern's description and real snippet from
docs/precision/patterns.md (a "## tag" section per pattern).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "bench" / "out"
DOCS = REPO / "docs" / "precision"
REPORT = REPO / "docs" / "PRECISION.md"
COLUMNS = ("hypothesis", "id", "evidence", "verdict", "reason", "question")
VERDICTS = ("TP", "FP")


@dataclass(frozen=True)
class Tree:
    """One measured tree: where it comes from, what is scanned, and how it is configured."""

    name: str
    spec: str  # "dist==version" on PyPI; "" for this project (a git archive of HEAD)
    package: str  # the folder scanned, inside the unpacked wheel
    kind: str  # "library" keeps the wheel's *.dist-info beside the package; an application drops it
    about: str
    config: str = ""  # a [tool.kloros] table written as pyproject.toml, as a user would configure it


# Home Assistant's own bus, declared the way issue 10 item 2 lets a user add endpoints: the
# EventBus (event type at position 0) and the dispatcher (signal at position 1, after hass)
HASS_CONFIG = (
    "\n".join(
        ["[tool.kloros]", 'kind = "application"']
        + [
            f'[[tool.kloros.endpoints]]\ncallable = "{callable}"\nrole = "{role}"\nposition = {position}'
            for callable, role, position in (
                ("homeassistant.core.EventBus.async_fire", "producer", 0),
                ("homeassistant.core.EventBus.async_fire_internal", "producer", 0),
                ("homeassistant.core.EventBus.fire", "producer", 0),
                ("homeassistant.core.EventBus.async_listen", "consumer", 0),
                ("homeassistant.core.EventBus.async_listen_once", "consumer", 0),
                ("homeassistant.core.EventBus.listen", "consumer", 0),
                ("homeassistant.core.EventBus.listen_once", "consumer", 0),
                ("homeassistant.helpers.dispatcher.async_dispatcher_send", "producer", 1),
                ("homeassistant.helpers.dispatcher.async_dispatcher_send_internal", "producer", 1),
                ("homeassistant.helpers.dispatcher.dispatcher_send", "producer", 1),
                ("homeassistant.helpers.dispatcher.async_dispatcher_connect", "consumer", 1),
                ("homeassistant.helpers.dispatcher.dispatcher_connect", "consumer", 1),
            )
        ]
    )
    + "\n"
)


TREES = {
    t.name: t
    for t in (
        # an empty table: kind is detected (the dist-info beside it), and the CLI stops looking
        # here instead of climbing to this repository's own pyproject.toml (kind = "application")
        Tree("django", "django==5.2.19", "django", "library", "a library", "[tool.kloros]\n"),
        Tree(
            "pretix",
            "pretix==2026.8.0",
            "pretix",
            "application",
            "a Django + Celery application",
            '[tool.kloros]\nkind = "application"\n',
        ),
        Tree(
            "homeassistant",
            "homeassistant==2025.4.4",
            "homeassistant",
            "application",
            "an application with its own event bus",
            HASS_CONFIG,
        ),
        Tree("kloros", "", "", "application", "this project (HEAD)"),
    )
}
# not part of the measured project: the measurement itself (its names would read as references)
KLOROS_EXCLUDED = ("bench/out", "docs/precision", "docs/PRECISION.md")


def fetch(tree: Tree) -> Path:
    """The folder to scan; a wheel is downloaded and unpacked once, this project every run."""
    base = OUT / "trees" / tree.name
    if not tree.spec:
        if base.exists():
            shutil.rmtree(base)
        base.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", "HEAD"], cwd=REPO, check=True, capture_output=True)
        with tarfile.open(fileobj=__import__("io").BytesIO(archive.stdout)) as tar:
            members = [m for m in tar.getmembers() if not m.name.startswith(KLOROS_EXCLUDED)]
            tar.extractall(base, members=members, filter="data")
        return base
    if not (base / tree.package).is_dir():
        wheels = OUT / "wheels"
        wheels.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--python-version", "3.13",
             "--only-binary=:all:", "-d", str(wheels), tree.spec],
            check=True,
        )  # fmt: skip
        dist, version = tree.spec.split("==")
        (wheel,) = wheels.glob(f"{dist}-{version}-*.whl")
        with zipfile.ZipFile(wheel) as zf:
            zf.extractall(base)
        if tree.kind == "application":
            # an application is deployed, not installed as a distribution: no dist-info beside it
            for info in base.glob("*.dist-info"):
                shutil.rmtree(info)
    if tree.config:
        # at the import root and in the scanned folder: either may be where the CLI looks
        for folder in (base, base / tree.package):
            (folder / "pyproject.toml").write_text(tree.config)
    return base / tree.package


def scan(tree: Tree, folder: Path) -> list[dict[str, Any]]:
    """The batch CLI's JSON findings for `folder` (also kept under bench/out/)."""
    result = subprocess.run(
        [sys.executable, "-m", "monitors", str(folder), "--format", "json", "--exit-zero"],
        cwd=REPO, check=True, capture_output=True, text=True,
    )  # fmt: skip
    (OUT / f"{tree.name}.json").write_text(result.stdout)
    (OUT / f"{tree.name}.stderr").write_text(result.stderr)
    return json.loads(result.stdout)


def rank(seed: int, qid: str) -> str:
    """A finding's place in the seeded random order: sha256 of seed and id."""
    return hashlib.sha256(f"{seed}:{qid}".encode()).hexdigest()


def text(q: dict[str, Any]) -> str:
    """The question text on one line, as kept in the TSV."""
    return " ".join(q["question"].split())


def draw(
    findings: list[dict[str, Any]], seed: int, size: int, kept: set[str] | frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Up to `size` findings per hypothesis, sorted by hypothesis and id.

    Findings whose id is in `kept` (drawn before and still found) stay drawn; the rest of
    each hypothesis' quota is the bottom-k by rank. The survivors of a uniform sample are a
    uniform sample of the surviving findings, so topping them up keeps the draw random while
    every verdict already given stays in use.
    """
    by_hypothesis: dict[str, list[dict[str, Any]]] = {}
    for q in findings:
        by_hypothesis.setdefault(q["hypothesis"], []).append(q)
    drawn = []
    for qs in by_hypothesis.values():
        drawn += sorted(qs, key=lambda q: (q["id"] not in kept, rank(seed, q["id"])))[:size]
    return sorted(drawn, key=lambda q: (q["hypothesis"], q["id"]))


def read_tsv(path: Path) -> list[dict[str, str]]:
    """The rows of a sample file; none when it does not exist yet."""
    if not path.exists():
        return []
    with path.open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def write_tsv(path: Path, rows: list[dict[str, str]]) -> None:
    """Write sample rows with the COLUMNS header, tab-separated."""
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS, delimiter="\t", lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


# questions whose text carries what is counted (names listed, members of a group): when
# the text changes, the verdict given to the old text must be read again
TEXT_SENSITIVE = {"MISSING_DOCSTRINGS", "DUPLICATE_RESPONSIBILITY"}


def merge(tree: Tree, findings: list[dict[str, Any]], seed: int, size: int) -> tuple[int, int]:
    """Write the new sample, keeping verdicts; returns (rows drawn, rows still to read).

    A row read before matches a finding by question id or, when ids changed (a monitor
    renamed), by hypothesis and question text. A text-sensitive row whose text changed keeps
    its old verdict only as a note in the reason, to be read again.
    """
    path = DOCS / f"{tree.name}.tsv"
    old_rows = read_tsv(path)
    by_id = {row["id"]: row for row in old_rows}
    by_text = {(row["hypothesis"], row["question"]): row for row in old_rows}
    matched: dict[str, dict[str, str]] = {}
    for q in findings:
        row = by_id.get(q["id"]) or by_text.get((q["hypothesis"], text(q)))
        if row is not None:
            matched[q["id"]] = row
    rows = []
    for q in draw(findings, seed, size, set(matched)):
        row = {
            "hypothesis": q["hypothesis"],
            "id": q["id"],
            "evidence": q["evidence"][0] if q["evidence"] else "-",
            "verdict": "",
            "reason": "",
            "question": text(q),
        }
        old = matched.get(q["id"])
        if old is not None and old["verdict"]:
            if old["question"] == row["question"] or q["hypothesis"] not in TEXT_SENSITIVE:
                row["verdict"], row["reason"] = old["verdict"], old["reason"]
            else:
                row["reason"] = f"(re-read: was {old['verdict']} for {old['question']!r}: {old['reason']})"
        rows.append(row)
    write_tsv(path, rows)
    used = {id(row) for row in matched.values()}
    gone_path = DOCS / f"{tree.name}.gone.tsv"
    gone = {row["id"]: row for row in read_tsv(gone_path)}
    gone.update({row["id"]: row for row in old_rows if id(row) not in used and row["verdict"]})
    if gone:
        write_tsv(gone_path, sorted(gone.values(), key=lambda r: (r["hypothesis"], r["id"])))
    return len(rows), sum(1 for row in rows if not row["verdict"])


def counts(findings: list[dict[str, Any]]) -> dict[str, int]:
    """{hypothesis: number of findings}, sorted by hypothesis."""
    return dict(sorted(Counter(q["hypothesis"] for q in findings).items()))


def git(*args: str) -> str:
    """The output of a git command run in the repository."""
    return subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()


def commit() -> str:
    """The short hash of HEAD."""
    return git("rev-parse", "--short", "HEAD")


def run(names: list[str], seed: int, size: int) -> None:
    """Fetch, scan and re-draw the samples of `names`; counts go to docs/precision/counts.json."""
    DOCS.mkdir(parents=True, exist_ok=True)
    state_path = DOCS / "counts.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    # the analyzer measured: the last commit that changed monitors/ (HEAD may only add readings)
    analyzer = git("log", "-1", "--format=%h", "--", "monitors")
    state.update({"commit": commit(), "analyzer": analyzer, "seed": seed, "size": size})
    for name in names:
        tree = TREES[name]
        folder = fetch(tree)
        findings = scan(tree, folder)
        drawn, blank = merge(tree, findings, seed, size)
        state.setdefault("trees", {})[name] = {
            "spec": tree.spec or f"this project at {state['commit']}",
            "scanned": folder.relative_to(REPO).as_posix(),
            "findings": counts(findings),
        }
        print(f"[precision] {name}: {len(findings)} findings, {drawn} drawn, {blank} to read", flush=True)
    state_path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")


# --- the report ---------------------------------------------------------------------------


def tally(rows: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    """{hypothesis: {sampled, tp, fp, patterns: Counter}} of one tree's sample."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        cell = out.setdefault(row["hypothesis"], {"sampled": 0, "tp": 0, "fp": 0, "patterns": Counter()})
        cell["sampled"] += 1
        if row["verdict"] == "TP":
            cell["tp"] += 1
        elif row["verdict"] == "FP":
            cell["fp"] += 1
            tag = re.match(r"\[([\w-]+)\]", row["reason"])
            cell["patterns"][tag.group(1) if tag else "untagged"] += 1
    return out


def table(state: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """{(tree, hypothesis): figures} for every tree in counts.json."""
    cells = {}
    for name, info in state.get("trees", {}).items():
        read = tally(read_tsv(DOCS / f"{name}.tsv"))
        for hypothesis, n in info["findings"].items():
            cell = read.get(hypothesis, {"sampled": 0, "tp": 0, "fp": 0, "patterns": Counter()})
            judged = cell["tp"] + cell["fp"]
            precision = cell["tp"] / judged if judged else None
            true = round(n * precision) if precision is not None else None
            cells[(name, hypothesis)] = {**cell, "findings": n, "precision": precision, "true": true}
    return cells


def freeze_round1() -> None:
    """Keep today's table in docs/precision/round1.json: the "old" counts later runs are compared to."""
    state = json.loads((DOCS / "counts.json").read_text())
    frozen = {
        "commit": state["commit"],
        "analyzer": state.get("analyzer", state["commit"]),
        "cells": {
            f"{name}/{hyp}": {k: cell[k] for k in ("findings", "sampled", "tp", "fp", "true")}
            for (name, hyp), cell in sorted(table(state).items())
        },
    }
    (DOCS / "round1.json").write_text(json.dumps(frozen, indent=2, sort_keys=True) + "\n")


def patterns() -> dict[str, str]:
    """{tag: markdown section} from docs/precision/patterns.md."""
    path = DOCS / "patterns.md"
    if not path.exists():
        return {}
    sections = re.split(r"^## ", path.read_text(), flags=re.M)[1:]
    return {s.split("\n", 1)[0].strip(): s.split("\n", 1)[1].strip() for s in sections}


def registered() -> set[str]:
    """Every hypothesis the monitors declare (their Hypothesis tables)."""
    import monitors  # noqa: F401  (registers every monitor)
    from monitors.registry import MONITORS

    return {h.id for monitor in MONITORS.values() for h in monitor.hypotheses}


def pct(value: float | None) -> str:
    """A ratio as a whole percentage, "-" when nothing was judged."""
    return "-" if value is None else f"{100 * value:.0f}%"


def report() -> str:
    """docs/PRECISION.md: the table, the FP patterns by hypothesis, and the notes."""
    state = json.loads((DOCS / "counts.json").read_text())
    round1_path = DOCS / "round1.json"
    round1: dict[str, Any] = (
        json.loads(round1_path.read_text()) if round1_path.exists() else {"cells": {}, "commit": "-"}
    )
    cells = table(state)
    lines = [
        "# Precision on real trees",
        "",
        f"Measured by `bench/run.sh precision` (= `python -m bench.precision`, then `--report`) at commit "
        f"{state['commit']} (analyzer: monitors/ as of {state.get('analyzer', state['commit'])}): each tree is scanned with `python -m monitors TREE --format json`; a seeded "
        f"random sample of up to {state['size']} findings per hypothesis per tree (seed {state['seed']}) is "
        "read by hand against the code. Every verdict and its one-line reason is in "
        "`docs/precision/<tree>.tsv`; the false-positive patterns are described in "
        "`docs/precision/patterns.md`.",
        "",
        "| tree | what | scanned |",
        "|---|---|---|",
    ]
    for name, info in state["trees"].items():
        lines.append(f"| {name} | {TREES[name].about} | `{info['spec']}`: `{info['scanned']}` |")
    lines += [
        "",
        "Precision = TP / (TP + FP) in the sample. *True* estimates the true findings of the whole "
        "tree (findings x precision; exact when every finding was read). *Round 1* is the same cell with "
        f"monitors/ as of {round1.get('analyzer', round1['commit'])} (`docs/precision/round1.json`): its findings and estimated true "
        "findings, the recall comparison the issue asks for.",
        "",
        "| tree | hypothesis | findings | sampled | TP | FP | precision | true | round 1 findings | round 1 true |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    keys = sorted(set(cells) | {tuple(k.split("/")) for k in round1["cells"]})
    for name, hyp in keys:
        cell = cells.get((name, hyp))
        old = round1["cells"].get(f"{name}/{hyp}", {})
        old_cols = (
            f"{old.get('findings', '-')} | {old.get('true', '-') if old.get('true') is not None else '-'}"
        )
        if cell is None:
            lines.append(f"| {name} | {hyp} | 0 | - | - | - | - | 0 | {old_cols} |")
            continue
        true = "-" if cell["true"] is None else cell["true"]
        unread = cell["sampled"] - cell["tp"] - cell["fp"]
        sampled = f"{cell['sampled']} ({unread} unread)" if unread else str(cell["sampled"])
        lines.append(
            f"| {name} | {hyp} | {cell['findings']} | {sampled} | {cell['tp']} | {cell['fp']} | "
            f"{pct(cell['precision'])} | {true} | {old_cols} |"
        )
    fired = {hyp for _, hyp in cells}
    silent = sorted(registered() - fired)
    if silent:
        lines += ["", f"Registered hypotheses that fired on no tree: {', '.join(silent)}."]
    described = patterns()
    by_hyp: dict[str, Counter] = {}
    for (name, hyp), cell in cells.items():
        for tag, n in cell["patterns"].items():
            by_hyp.setdefault(hyp, Counter())[(tag, name)] += n
    lines += ["", "## False-positive patterns", ""]
    if not by_hyp:
        lines.append("None in the samples read.")
    for hyp in sorted(by_hyp):
        lines += [f"### {hyp}", ""]
        tags: dict[str, list[str]] = {}
        for (tag, name), n in sorted(by_hyp[hyp].items()):
            tags.setdefault(tag, []).append(f"{name} {n}")
        for tag, where in sorted(tags.items(), key=lambda kv: kv[0]):
            lines += [f"**{tag}** ({', '.join(where)})", "", described.get(tag, "(not described)"), ""]
    notes = DOCS / "notes.md"
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m bench.precision", description=__doc__.splitlines()[0])
    parser.add_argument("--trees", default=",".join(TREES), help=f"comma-separated, of {', '.join(TREES)}")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--size", type=int, default=25, help="findings drawn per hypothesis per tree")
    parser.add_argument("--report", action="store_true", help="write docs/PRECISION.md from the samples")
    parser.add_argument("--freeze-round1", action="store_true", help="keep the current totals as round 1")
    args = parser.parse_args(argv)
    if args.freeze_round1:
        freeze_round1()
        return 0
    if args.report:
        REPORT.write_text(report())
        print(f"[precision] wrote {REPORT.relative_to(REPO)}")
        return 0
    run([n for n in args.trees.split(",") if n], args.seed, args.size)
    return 0


if __name__ == "__main__":
    sys.exit(main())
