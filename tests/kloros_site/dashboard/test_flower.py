"""Flower, as run.sh starts it, sees the analysis tasks a rescan sends to a real worker."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.harness import REPO, Proc, attach, celery, free_port, manage

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def flower(request, stack_env, tmp_path, wait_until):
    port = free_port()
    process = Proc(
        "flower",
        celery("flower", f"--port={port}", "--address=127.0.0.1"),
        {**stack_env, "FLOWER_UNAUTHENTICATED_API": "true"},
        tmp_path,
        REPO,
    )
    attach(request.node, process)
    base = f"http://127.0.0.1:{port}"

    def workers_seen():
        assert process.alive(), f"flower exited:\n{process.output()}"
        try:
            return [
                name for name in get_json(f"{base}/api/workers?refresh=1") if name.startswith("test-worker@")
            ]
        except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
            return []

    try:
        wait_until(workers_seen, timeout=60, message=f"flower never listed the worker:\n{process.output()}")
        yield base
    finally:
        process.stop(timeout=15)


def test_flower_lists_the_analysis_tasks_of_a_rescan(worker, flower, stack_env, tmp_path, wait_until):
    root = tmp_path / "src"
    root.mkdir()
    names = ["flower_a.py", "flower_b.py", "flower_c.py"]
    for name in names:
        (root / name).write_text(f'ChemPub().emit("curiosity.{name[:-3]}")\n')

    rescan = subprocess.run(
        manage("rescan", str(root)),
        cwd=REPO,
        env=stack_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rescan.returncode == 0, rescan.stderr
    assert "3 analyzed" in rescan.stdout, rescan.stdout  # the summary line

    def analyzed_in_flower():
        tasks = get_json(f"{flower}/api/tasks?taskname=kloros.analyze_file&limit=1000").values()
        mine = {name: t for t in tasks for name in names if f"'{name}'" in (t.get("args") or "")}
        done = {name: t for name, t in mine.items() if t.get("state") == "SUCCESS"}
        return done if len(done) == len(names) else None

    tasks = wait_until(
        analyzed_in_flower, timeout=60, message="flower did not list the three analyses as done"
    )
    for task in tasks.values():
        assert task["name"] == "kloros.analyze_file"
        assert task["worker"].startswith("test-worker@")
        assert task["result"] == "'analyzed'"
        # the task shows the file it analyzes, never the content it carries
        assert "data_b64" not in task["args"] and "data_b64" not in (task.get("kwargs") or "")
