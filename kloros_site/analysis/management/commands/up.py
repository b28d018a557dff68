from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kloros_site.analysis.management.commands.watch import watched_roots


class Command(BaseCommand):
    help = "Run the whole stack in the foreground: watcher, worker, beat, web UI and Flower. Ctrl-C stops it."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="*", help="folders to watch (default: KLR_WATCH_PATHS, else .)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--flower-port", type=int, default=5555)
        parser.add_argument("--concurrency", type=int, default=2, help="worker processes")

    def handle(self, *args, paths, host, port, flower_port, concurrency, **options) -> None:
        roots = watched_roots(paths)
        password_file = settings.STATE_DIR / "admin_password"
        password = password_file.read_text().strip() if password_file.exists() else ""
        env = {**os.environ, "KLR_WATCH_PATHS": os.pathsep.join(map(str, roots)), "PYTHONUNBUFFERED": "1"}
        commands = self._commands(roots, host, port, flower_port, concurrency, password)
        children = {
            name: subprocess.Popen(argv, env=env, cwd=settings.BASE_DIR) for name, argv in commands.items()
        }
        stopping = False

        def stop(signum=None, frame=None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        time.sleep(3)
        self._banner(roots, host, port, flower_port, password, password_file)
        failed = ""
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    failed = f"{name} exited with status {child.returncode}"
                    stopping = True
            time.sleep(0.5)
        self._stop(children)
        if failed:
            raise CommandError(f"{failed}; stopped the others")

    @staticmethod
    def _commands(
        roots: list[Path], host: str, port: int, flower_port: int, concurrency: int, password: str
    ) -> dict[str, list[str]]:
        python = sys.executable
        manage = [python, str(Path(settings.BASE_DIR) / "manage.py")]
        celery = [python, "-m", "celery", "-A", "kloros_site"]
        flower_auth = [f"--basic-auth=admin:{password}"] if password else []
        return {
            "worker": [*celery, "worker", f"--concurrency={concurrency}", "--loglevel=INFO"],
            "watcher": [*manage, "watch", *map(str, roots)],
            # periodic tasks: the outbox sweep and the runtime questions (in memory, no schedule file)
            "beat": [*celery, "beat", "--scheduler=celery.beat:Scheduler", "--loglevel=INFO"],
            "web": [
                python,
                "-m",
                "gunicorn",
                "kloros_site.wsgi",
                f"--bind={host}:{port}",
                "--workers=2",
                # one line per request drowned everything else: only with KLR_ACCESS_LOG=true
                *(["--access-logfile=-"] if settings.KLR_ACCESS_LOG else []),
            ],
            "flower": [*celery, "flower", f"--address={host}", f"--port={flower_port}", *flower_auth],
        }

    def _banner(
        self, roots: list[Path], host: str, port: int, flower_port: int, password: str, password_file: Path
    ) -> None:
        base = f"http://{host}:{port}"
        broker = settings.CELERY_BROKER_URL.split("://")[0]
        self.stdout.write(self.style.SUCCESS("\nKLoROS integration analyzer is running"))
        self.stdout.write(f"  watching    {', '.join(map(str, roots))}")
        self.stdout.write(
            f"  stack       {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]} + {broker} "
            f"(state in {settings.STATE_DIR})"
        )
        self.stdout.write(f"  dashboard   {base}/dashboard/")
        self.stdout.write(f"  admin       {base}/admin/analysis/question/")
        self.stdout.write(f"  health      {base}/health   metrics {base}/metrics")
        self.stdout.write(f"  flower      http://{host}:{flower_port}/")
        self.stdout.write(
            f"  log in as   admin / {password or '(see createadmin)'}   (also in {password_file})"
        )
        self.stdout.write("  bus         python manage.py chembus listen 'curiosity.#'")
        self.stdout.write("  Ctrl-C stops everything.\n")

    @staticmethod
    def _stop(children: dict[str, subprocess.Popen]) -> None:
        for child in children.values():
            if child.poll() is None:
                child.terminate()
        for child in children.values():
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
