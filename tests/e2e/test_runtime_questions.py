"""Questions about the running pipeline, caused for real: each test brings a condition about with
real watcher, worker and beat processes (tiny thresholds in their environment), sees its question
open with the measured evidence and go out on ChemBus, then clears the condition and sees it resolve.

The periodic check runs on a queue of its own, served by a worker with ordinary memory limits,
so a session worker with default thresholds never takes it and a paused analysis worker does not
stop it.
"""

from __future__ import annotations

import os
import re
import signal
import threading

import psutil
import pytest

from kloros_site.analysis.evaluation import evaluated
from kloros_site.analysis.messages import sha256
from kloros_site.analysis.models import Question, SourceFile, Transition
from tests.harness import Listener, PrivateStack, eventually

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def runtime_stack(private_stack, name: str, **env: str) -> PrivateStack:
    return private_stack(name, KLR_RUNTIME_QUEUE=f"runtime-{name}", KLR_RUNTIME_CHECK_SECONDS="1", **env)


def start_checks(stack: PrivateStack) -> None:
    """The worker that runs the periodic check, with an ordinary memory limit, and beat."""
    stack.start_worker(queues=stack.env["KLR_RUNTIME_QUEUE"], KLR_WORKER_MAX_MEMORY_KB="150000")
    stack.start_beat()


def write_and_wait(root, name: str, text: str) -> None:
    (root / name).write_text(text)
    digest = sha256(text.encode())
    eventually(
        lambda: SourceFile.objects.filter(path=name, sha256=digest).exists(),
        timeout=60,
        message=f"{name} was not stored",
    )


def opened(stack: PrivateStack, hypothesis: str, key: str, files: list[str] | None = None) -> Question:
    """The stack's open question under `key`, once it names `files` (if given)."""

    def found() -> Question | None:
        question = Question.objects.open().filter(hypothesis=hypothesis, key=key).first()
        if question and files is not None and question.evidence[-len(files) :] != files:
            return None
        return question

    question = eventually(found, timeout=60, message=f"no open {hypothesis} question")
    assert isinstance(question, Question)
    assert question.monitor == "exploration" and question.tree.path == str(stack.root)
    return question


def resolved(question: Question) -> None:
    eventually(
        lambda: Question.objects.filter(pk=question.pk, status="resolved").exists(),
        timeout=90,
        message=f"{question.hypothesis} did not resolve",
    )


def published(listener: Listener, question: Question, signal_name: str, transition: str) -> dict:
    """The transition row was published and the bus message arrived."""
    eventually(
        lambda: Transition.objects.filter(
            question=question, kind=transition, published_at__isnull=False
        ).exists(),
        message=f"{transition} transition of {question.hypothesis} not published",
    )
    message = eventually(
        lambda: next(
            (
                m
                for m in listener.messages
                if m["facts"]["question_id"] == question.qid and m["facts"]["transition"] == transition
            ),
            None,
        ),
        message=f"{transition} of {question.hypothesis} not heard on the bus: "
        f"{[(m['facts']['hypothesis'], m['facts']['transition']) for m in listener.messages]} {listener.errors}",
    )
    assert isinstance(message, dict)
    assert message["signal"] == signal_name
    return message


def test_a_file_saved_over_and_over_is_a_hot_file_until_the_saving_stops(private_stack, listen):
    stack = runtime_stack(private_stack, "hot", KLR_RUNTIME_HOT_ANALYSES="5", KLR_RUNTIME_HOT_WINDOW="10")
    listener = listen("curiosity.#")
    stack.start_worker()
    stack.start_watcher()
    start_checks(stack)

    for i in range(6):  # a generator rewriting its output, each version analyzed
        write_and_wait(stack.root, "gen.py", f"VERSION = {i}\n")

    question = opened(stack, "HOT_FILE", "runtime:HOT_FILE:gen.py")
    figures, outcomes, path = question.evidence
    assert path == "gen.py"
    count = int(re.fullmatch(r"analyzed (\d+) times in the last 10 s \(threshold: 5\)", figures)[1])
    assert count >= 5
    assert outcomes.startswith("outcomes: analyzed ")
    message = published(listener, question, "curiosity.exploration_question", "opened")
    assert message["facts"]["evidence"] == question.evidence
    assert message["facts"]["hypothesis"] == "HOT_FILE" and message["facts"]["source"] == "exploration"

    # no more saves: ten seconds later it is no longer hot
    resolved(question)
    published(listener, question, "curiosity.question_resolved", "resolved")


def test_a_file_far_slower_than_its_tree_is_a_slow_analysis_until_it_is_small(private_stack, listen):
    stack = runtime_stack(
        private_stack,
        "slow",
        KLR_RUNTIME_SLOW_FACTOR="10",
        KLR_RUNTIME_SLOW_MIN_MS="100",
        KLR_RUNTIME_SLOW_MIN_FILES="5",
    )
    listener = listen("curiosity.#")
    stack.start_worker()
    stack.start_watcher()
    for i in range(6):
        write_and_wait(stack.root, f"m{i}.py", f"def f{i}(x):\n    return x + {i}\n")
    # one function of 10,000 statements (~320 KB, asking nothing): hundreds of milliseconds where the
    # others take about one
    body = "".join(f"    total += len(str({i})) * {i % 7}\n" for i in range(10_000))
    huge = f"def build():\n    total = 0\n{body}    return total\n\n\nVALUE = build()\n"
    write_and_wait(stack.root, "huge.py", huge)
    start_checks(stack)

    question = opened(stack, "SLOW_ANALYSIS", "runtime:SLOW_ANALYSIS:huge.py")
    took, median, size, path = question.evidence
    row = SourceFile.objects.get(path="huge.py")
    assert path == "huge.py" and size == f"size: {len(huge):,} bytes"
    assert took.startswith(f"last analysis: {row.duration_ms:,.0f} ms, ")
    assert re.fullmatch(r"tree median: [\d.,]+ ms over 7 analyzed files", median)
    published(listener, question, "curiosity.exploration_question", "opened")

    write_and_wait(stack.root, "huge.py", "def f(x):\n    return x\n")
    resolved(question)
    published(listener, question, "curiosity.question_resolved", "resolved")


def test_pool_processes_recycled_for_memory_ask_with_the_files_until_they_stop(private_stack, listen):
    stack = runtime_stack(
        private_stack,
        "memory",
        # every pool process is over 10 MB: each one is replaced after its first task
        KLR_WORKER_MAX_MEMORY_KB="10000",
        KLR_RUNTIME_RECYCLES="2",
        KLR_RUNTIME_RECYCLE_WINDOW="30",
    )
    listener = listen("curiosity.#")
    worker = stack.start_worker()
    stack.start_watcher()
    start_checks(stack)
    pool = {child.pid for child in psutil.Process(worker.popen.pid).children()}
    for name in ("a.py", "b.py", "c.py"):
        write_and_wait(stack.root, name, f"NAME = {name!r}\n")

    files = ["a.py", "b.py", "c.py"]
    question = opened(stack, "MEMORY_PRESSURE_OPTIMIZATION", "runtime:MEMORY_PRESSURE_OPTIMIZATION:", files)
    figures = question.evidence[:4]
    assert question.evidence[4:] == files
    recycles = int(re.fullmatch(r"(\d+) recycles in the last 30 s \(threshold: more than 2\)", figures[0])[1])
    assert recycles >= 3
    assert pool.isdisjoint(child.pid for child in psutil.Process(worker.popen.pid).children())
    rss_kb = int(re.fullmatch(r"largest RSS at a recycle: ([\d,]+) KiB", figures[1])[1].replace(",", ""))
    assert rss_kb > 10_000
    after_files = re.fullmatch(
        r"right after analyzing a file: (\d+) \(3 files(; [abc]\.py \d+){3}\)", figures[2]
    )
    after_evaluations = re.fullmatch(r"right after evaluating the tree: (\d+)", figures[3])
    assert after_files and after_evaluations
    # the same worker evaluates the tree, and its pool processes are replaced after that too
    assert int(after_files[1]) >= 3 and int(after_files[1]) + int(after_evaluations[1]) == recycles
    published(listener, question, "curiosity.exploration_question", "opened")

    # nothing more to analyze, nothing more recycled: thirty seconds later the window is clear
    resolved(question)
    published(listener, question, "curiosity.question_resolved", "resolved")


def test_a_paused_worker_under_a_stream_of_saves_is_a_growing_backlog_until_it_resumes(private_stack, listen):
    stack = runtime_stack(
        private_stack,
        "backlog",
        KLR_QUEUE_BOUND="2",
        KLR_RUNTIME_BACKLOG_WINDOW="4",
        KLR_RUNTIME_BACKLOG_GROWTH="5",
    )
    listener = listen("curiosity.#")
    worker = stack.start_worker()
    stack.start_watcher()
    start_checks(stack)
    write_and_wait(stack.root, "first.py", "X = 0\n")
    # paused mid-transaction the worker would hold the database's write lock (SQLite) or the
    # tree's lock: every writer, the check included, would wait for it
    eventually(lambda: evaluated() and not Transition.objects.filter(published_at__isnull=True).exists())

    os.killpg(worker.popen.pid, signal.SIGSTOP)  # the analysis worker stops taking work
    stop = threading.Event()

    def save_files() -> None:
        i = 0
        while not stop.wait(0.2):
            (stack.root / f"new{i}.py").write_text(f"X = {i}\n")
            i += 1

    writer = threading.Thread(target=save_files, daemon=True)
    writer.start()
    try:
        question = opened(stack, "QUEUE_BACKLOG", "runtime:QUEUE_BACKLOG:")
    finally:
        stop.set()
        writer.join()
        os.killpg(worker.popen.pid, signal.SIGCONT)
    growth, queue, done = question.evidence
    match = re.fullmatch(r"pending files: (\d+) -> (\d+) in \d+ s \(\+([\d.]+)/min\)", growth)
    assert match and int(match[2]) > int(match[1]) and float(match[3]) >= 5
    depths = re.fullmatch(
        r"analysis queue never empty: (\d+) to (\d+) messages waiting over \d+ samples", queue
    )
    assert depths and 1 <= int(depths[1]) <= int(depths[2])
    assert done.startswith("analyses completed meanwhile, all trees: ")
    published(listener, question, "curiosity.exploration_question", "opened")

    # the saves stop and the worker resumes: the backlog stops growing and drains
    resolved(question)
    published(listener, question, "curiosity.question_resolved", "resolved")
    eventually(lambda: SourceFile.objects.filter(path__startswith="new").count() >= int(match[2]), timeout=60)
