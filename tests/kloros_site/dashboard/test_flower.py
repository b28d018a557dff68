"""Flower, as run.sh starts it, sees the analysis tasks a rescan sends to a real worker."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def flower(stack_env, tmp_path, wait_until):
    port = free_port()
    log_path = tmp_path / "flower.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "kloros_site",
                "flower",
                f"--port={port}",
                "--address=127.0.0.1",
            ],
            cwd=REPO,
            env={**stack_env, "FLOWER_UNAUTHENTICATED_API": "true"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"

    def workers_seen():
        assert process.poll() is None, f"flower exited:\n{log_path.read_text()}"
        try:
            return [
                name for name in get_json(f"{base}/api/workers?refresh=1") if name.startswith("test-worker@")
            ]
        except (urllib.error.URLError, ConnectionError, json.JSONDecodeError):
            return []

    try:
        wait_until(
            workers_seen, timeout=60, message=f"flower never listed the worker:\n{log_path.read_text()}"
        )
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_flower_lists_the_analysis_tasks_of_a_rescan(worker, flower, stack_env, tmp_path, wait_until):
    root = tmp_path / "src"
    root.mkdir()
    names = ["flower_a.py", "flower_b.py", "flower_c.py"]
    for name in names:
        (root / name).write_text(f'emit("curiosity.{name[:-3]}")\n')

    rescan = subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "rescan", str(root)],
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
