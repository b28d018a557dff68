"""Branch switch: a watched git repository holding two releases of a real package, then
`git checkout` from one to the other, timed from the checkout's end until every stored open
question equals the batch scan of the new checkout (optionally with a worker SIGKILLed midway).

The repository is Django 5.1.x and 5.2.x from their wheels (`pip download`), unpacked and
committed as two commits; wheels and repository are cached under bench/out/ (gitignored).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.procs import PYTHON, REPO, Proc
from bench.stack import Stack, drained, wait

PACKAGE = "django"
SERIES = ("5.1", "5.2")  # the newest release of each series
OUT = REPO / "bench" / "out" / "branch"
SETUP_TIMEOUT = 1800.0
POLL = 0.02  # the cheap signature of the stored questions, this often
FULL_EVERY = 1.0  # a full comparison at least this often, even if the signature did not move
# fixed identity and dates: the same wheels always make the same commits
GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@localhost",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@localhost",
    "GIT_AUTHOR_DATE": "2025-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2025-01-01T00:00:00Z",
}


def git(repo: Path, *args: str) -> str:
    argv = ["git", "-c", "commit.gpgsign=false", "-c", "core.excludesFile=/dev/null", "-C", str(repo)]
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(
        [*argv, *args], check=True, capture_output=True, text=True, env=env, timeout=600
    ).stdout


def wheel(package: str, series: str) -> Path:
    """The newest wheel of `package` in `series` (e.g. 5.1), downloaded once into bench/out/."""
    folder = OUT / "wheels" / f"{package}-{series}"
    found = sorted(folder.glob("*.whl"))
    if not found:
        folder.mkdir(parents=True, exist_ok=True)
        major, minor = series.split(".")
        spec = f"{package}>={series},<{major}.{int(minor) + 1}"
        subprocess.run(
            [PYTHON, "-m", "pip", "download", "-q", "--no-deps", "--python-version", "3.13"]
            + ["--only-binary=:all:", "-d", str(folder), spec],
            check=True,
            timeout=600,
        )
        found = sorted(folder.glob("*.whl"))
    return found[-1]


def repository(package: str = PACKAGE, series: tuple[str, ...] = SERIES) -> tuple[Path, list[str]]:
    """A git repository with one commit per release (tagged v<version>), built once and cached."""
    import zipfile

    wheels = [wheel(package, s) for s in series]
    tags = [f"v{w.name.split('-')[1]}" for w in wheels]
    repo = OUT / f"{package}-{'-'.join(tag[1:] for tag in tags)}"
    if (repo / ".git").is_dir():
        return repo, tags
    building = repo.with_name(repo.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    git(building, "-c", "init.defaultBranch=main", "init", "-q")
    for whl, tag in zip(wheels, tags, strict=True):
        for child in building.iterdir():  # the next release replaces the whole tree
            if child.name != ".git":
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        with zipfile.ZipFile(whl) as archive:
            archive.extractall(building)
        git(building, "add", "--all", "--force", ".")
        git(building, "commit", "-q", "-m", f"{package} {tag[1:]}")
        git(building, "tag", tag)
    building.rename(repo)
    return repo, tags


def batch_scan(repo: Path, tag: str, scratch: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The batch CLI's questions ({id: Question}) and failed files of one commit, scanned from a copy
    beside the repository (before the stack has work, so it costs the measurement nothing)."""
    from monitors import scan_tree

    scratch.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", tag], check=True, capture_output=True, timeout=300
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive, check=True, timeout=300)
    store, errors = scan_tree(scratch)
    shutil.rmtree(scratch)
    return dict(store.all_questions()), {path: error.reason for path, error in errors.items()}


def comparable(questions: dict[str, Any]) -> dict[str, tuple]:
    """What must match (as tests/e2e/test_storm.py compares): id -> hypothesis, evidence, text."""
    return {qid: (q.hypothesis, list(q.evidence), q.question) for qid, q in questions.items()}


def stored(tree) -> dict[str, tuple]:
    from kloros_site.analysis.models import Question

    rows = Question.objects.open().filter(tree=tree).values_list("qid", "hypothesis", "evidence", "question")
    return {qid: (hypothesis, evidence, text) for qid, hypothesis, evidence, text in rows}


def signature(tree) -> tuple:
    """Cheap: moves whenever a question of the tree is written (one aggregate query)."""
    from django.db.models import Count, Max, Q

    from kloros_site.analysis.models import Question

    return tuple(
        Question.objects.filter(tree=tree)
        .aggregate(n=Count("id", filter=Q(status="open")), at=Max("updated_at"))
        .values()
    )


def mismatch(actual: dict[str, tuple], expected: dict[str, tuple]) -> dict[str, int]:
    both = actual.keys() & expected.keys()
    return {
        "missing": len(expected.keys() - actual.keys()),
        "extra": len(actual.keys() - expected.keys()),
        "different": sum(actual[k] != expected[k] for k in both),
    }


def changed_files(repo: Path, frm: str, to: str) -> tuple[int, int]:
    """(files the checkout changes, of which the analyzer watches)."""
    from monitors.scan import WATCHED_SUFFIXES

    names = [n for n in git(repo, "diff", "--name-only", "--no-renames", "-z", frm, to).split("\0") if n]
    hidden = [n for n in names if any(part.startswith(".") for part in n.split("/"))]
    return len(names), sum(n.endswith(WATCHED_SUFFIXES) for n in names if n not in hidden)


def kill_one(stack: Stack, workers: list[Proc]) -> Proc:
    """SIGKILL the first worker's whole process group (no clean-up, no ack) and start a replacement."""
    victim = workers.pop(0)
    victim.kill()
    replacement = stack.spawn_worker(f"{victim.name}r")
    workers.append(replacement)
    return replacement


def switch(
    stack: Stack,
    repo: Path,
    tree,
    frm: str,
    to: str,
    batches: dict,
    workers: list[Proc],
    kill: bool,
    timeout: float,
    watcher: Proc | None = None,
) -> dict[str, Any]:
    from django.db.models import Max

    from kloros_site.analysis.models import DeadLetter, SourceFile, Transition
    from monitors.question import diff

    files, watched = changed_files(repo, frm, to)
    expected = comparable(batches[to][0])
    before = Transition.objects.filter(question__tree=tree).aggregate(last=Max("id"))["last"] or 0
    letters = DeadLetter.objects.filter(tree=tree).count()
    log_start = len(watcher.output()) if watcher else 0
    present = list(workers)  # the killed one's log stays readable
    worker_logs = {w.name: len(w.output()) for w in present}
    start_ns = time.time_ns()
    began = time.monotonic()
    git(repo, "checkout", "-q", to)
    ended, ended_at = time.monotonic(), time.time()
    print(
        f"[branch] {frm} -> {to}: {files} files changed ({watched} watched) in {ended - began:.1f} s",
        flush=True,
    )

    current_s: float | None = None
    killed_s: float | None = None
    replacement: Proc | None = None
    last_signature, last_full = None, 0.0
    while time.monotonic() - ended < timeout:
        if kill and replacement is None:
            done = SourceFile.objects.filter(tree=tree, seq__gt=start_ns).count()
            if done >= watched / 2:  # midway through the switch's extraction
                replacement = kill_one(stack, workers)
                killed_s = time.monotonic() - ended
                print(
                    f"[branch]   killed a worker {killed_s:.2f} s after the checkout ({done} stored)",
                    flush=True,
                )
        now = time.monotonic()
        sig = signature(tree)
        if sig != last_signature or now - last_full >= FULL_EVERY:
            last_signature, last_full = sig, now
            if stored(tree) == expected:
                current_s = time.monotonic() - ended
                break
        time.sleep(POLL)
    drained_s: float | None = None
    try:
        wait(drained, max(timeout - (time.monotonic() - ended), 1.0), 0.05, "switch drained")
        drained_s = time.monotonic() - ended
    except TimeoutError:
        pass
    if replacement is not None:
        replacement.wait_for("ready.", 120)
    final = stored(tree)
    written = list(
        Transition.objects.filter(question__tree=tree, id__gt=before)
        .order_by("id")
        .values_list("question__qid", "kind", "created_at")
    )
    kinds = [kind for _, kind, _ in written]
    per_question: dict[str, list[str]] = {}
    for qid, kind, _ in written:
        per_question.setdefault(qid, []).append(kind)
    several = {qid: seq for qid, seq in per_question.items() if len(seq) > 1}
    times = [at.timestamp() - ended_at for _, _, at in written]
    delta = diff(batches[frm][0], batches[to][0])
    failed = dict(SourceFile.objects.filter(tree=tree, status="failed").values_list("path", "reason"))
    row = {
        "from": frm,
        "to": to,
        "files_changed": files,
        "files_changed_watched": watched,
        "checkout_s": ended - began,
        "questions_current_s": current_s,  # None: not within the timeout
        "drained_s": drained_s,
        "killed_after_s": killed_s,
        "files_stored": SourceFile.objects.filter(tree=tree, seq__gt=start_ns).count(),
        "questions": len(expected),
        "transitions": {kind: list(kinds).count(kind) for kind in ("opened", "changed", "resolved")},
        # what a subscriber needs to hear: the difference between the two batch scans
        "expected_transitions": {k: len(getattr(delta, k)) for k in ("opened", "changed", "resolved")},
        # more than the difference means the bus heard intermediate states of the switch
        "questions_with_several_transitions": len(several),
        "several_examples": dict(sorted(several.items())[:5]),
        "first_transition_s": min(times, default=None),  # negative: written before the checkout ended
        "last_transition_s": max(times, default=None),
        "timeline_s": timeline(tree, start_ns, ended_at, current_s),
        # files the watcher sent again as lost (kloros_site.analysis.pending), from its log
        "resent_lost": resent(watcher.output()[log_start:]) if watcher else None,
        # extraction tasks the workers ran: more than the files stored means files sent twice
        "tasks_run": sum(tasks_run(w.output()[worker_logs.get(w.name, 0) :]) for w in {*present, *workers}),
        "final_equals_batch": final == expected,
        "final_mismatch": mismatch(final, expected),
        "failed_files_equal_batch": failed == batches[to][1],
        "dead_letters": DeadLetter.objects.filter(tree=tree).count() - letters,
    }
    print(f"[branch]   {row}", flush=True)
    return row


def timeline(tree, start_ns: int, ended_at: float, current_s: float | None) -> dict[str, float | None]:
    """Where the time after the checkout went, in seconds from its end (negative: during it): files
    read and sent by the watcher (their seq), stored by the workers, questions evaluated."""
    from django.db.models import Max, Min, Sum

    from kloros_site.analysis.models import SourceFile, Transition, Tree

    files = SourceFile.objects.filter(tree=tree, seq__gt=start_ns).aggregate(
        first_sent=Min("seq"),
        last_sent=Max("seq"),
        first_stored=Min("analyzed_at"),
        last_stored=Max("analyzed_at"),
        analysis_ms=Sum("duration_ms"),
    )
    began = datetime.fromtimestamp(start_ns / 1e9, tz=UTC)
    written = Transition.objects.filter(question__tree=tree, created_at__gte=began)
    evaluations = written.aggregate(first=Min("created_at"), last=Max("created_at"))
    evaluated_at = Tree.objects.get(pk=tree.pk).evaluated_at

    def since(at) -> float | None:
        if at is None:
            return None
        seconds = at / 1e9 if isinstance(at, int) else at.timestamp()
        return round(seconds - ended_at, 3)

    return {
        "first_sent": since(files["first_sent"]),
        "last_sent": since(files["last_sent"]),
        "first_stored": since(files["first_stored"]),
        "last_stored": since(files["last_stored"]),
        "first_transition": since(evaluations["first"]),
        "last_transition": since(evaluations["last"]),
        "last_evaluation_end": since(evaluated_at),
        "questions_current": current_s,
        # the engine's own time on those files (parse, facts), summed over both workers: the rest of
        # first_stored..last_stored x 2 workers is the pipeline's (database, broker, evaluation)
        "analysis_total": round((files["analysis_ms"] or 0) / 1000, 3),
    }


def tasks_run(log: str) -> int:
    return sum("kloros.analyze_file[" in line and " succeeded in " in line for line in log.splitlines())


def resent(log: str) -> int:
    """Files the feeder's log says it sent again as lost."""
    import re

    counts = re.findall(r"sending (\d+) (?:files|tasks) again", log)
    return sum(int(n) for n in counts)


def run(stack: Stack, switches: int, kill: bool, timeout: float) -> dict[str, Any]:
    from monitors.scan import import_root

    source, tags = repository()
    repo = stack.work / "trees" / "repo"
    shutil.copytree(source, repo, symlinks=True)
    git(repo, "checkout", "-q", tags[0])
    batches = {tag: batch_scan(repo, tag, stack.work / "trees" / f"scan-{tag}") for tag in tags}
    print(
        f"[branch] {source.name}: " + ", ".join(f"{t} {len(b[0])} questions" for t, b in batches.items()),
        flush=True,
    )

    workers = stack.workers(2)
    started = time.monotonic()
    watcher = stack.watcher(repo)
    wait(drained, SETUP_TIMEOUT, 0.2, "first release analyzed")
    setup_s = time.monotonic() - started
    from kloros_site.analysis.models import SourceFile, Tree

    tree = Tree.objects.get(path=str(import_root(repo)))
    first = {
        "release": tags[0],
        "analyzed_s": setup_s,
        "files": SourceFile.objects.filter(tree=tree).exclude(status="deleted").count(),
        "equals_batch": stored(tree) == comparable(batches[tags[0]][0]),
    }
    print(f"[branch] first release through the pipeline: {first}", flush=True)
    rows = []
    for i in range(switches):
        frm, to = tags[i % 2], tags[(i + 1) % 2]
        rows.append(switch(stack, repo, tree, frm, to, batches, workers, kill, timeout, watcher))
    return {
        "package": PACKAGE,
        "releases": tags,
        "workers": 2,
        "kill": kill,
        "timeout_s": timeout,
        "first": first,
        "rows": rows,
    }
