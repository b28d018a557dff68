from __future__ import annotations

import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kloros_site.analysis.paths import Ignore
from kloros_site.analysis.watcher import Watcher
from tasks.analysis import feeder


def watched_roots(paths: list[str]) -> list[Path]:
    roots = [Path(p).expanduser().resolve() for p in paths] or list(settings.KLR_WATCH_PATHS)
    for root in roots:
        if not root.is_dir():
            raise CommandError(f"{root} is not a directory")
    return roots


class Command(BaseCommand):
    help = "Watch source trees and send one analysis task per changed file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="*", help="folders to watch (default: KLR_WATCH_PATHS, else .)")

    def handle(self, *args, paths: list[str], **options) -> None:
        roots = watched_roots(paths)
        ignores = {root: Ignore(root, settings.KLR_IGNORE) for root in roots}
        watcher = Watcher(roots, ignores, feeder(), settings.KLR_MAX_FILE_BYTES)
        done = threading.Event()

        def shutdown(signum, frame) -> None:
            done.set()
            watcher.stop()

        signal.signal(signal.SIGTERM, shutdown)
        signal.signal(signal.SIGINT, shutdown)
        watcher.start()
        self.stdout.write(f"watching {', '.join(map(str, roots))}", ending="\n")
        self.stdout.flush()
        watcher.run()
