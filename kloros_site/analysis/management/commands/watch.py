from __future__ import annotations

import logging
import signal
import threading
from functools import partial
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kloros_site.analysis import evaluation, pending
from kloros_site.analysis.enqueue import feeder, send_evaluation
from kloros_site.analysis.paths import remember_config, walker_for
from kloros_site.analysis.sync import changed_paths
from kloros_site.analysis.watcher import Watcher
from monitors.config import ConfigError
from monitors.scan import import_root


def watched_roots(paths: list[str]) -> list[Path]:
    """The trees to watch; a package folder widens to the folder above it.

    Module names come from paths relative to the tree, so `src/pkg` must be analyzed as
    `pkg/...` inside `src` for `import pkg.mod` to resolve (as `python -m monitors` does).
    """
    roots = []
    for given in [Path(p).expanduser().resolve() for p in paths] or list(settings.KLR_WATCH_PATHS):
        if not given.is_dir():
            raise CommandError(f"{given} is not a directory")
        root = import_root(given)
        if root != given:
            logging.getLogger(__name__).warning("%s is a package; watching its import root %s", given, root)
        if root not in roots:
            roots.append(root)
    return roots


def reanalyze_all_if_reconfigured(root: Path, walker) -> int:
    """The tree's [tool.kloros] changed (or was never stored): every file's analysis is out of date."""
    if not remember_config(root):
        return 0
    paths = list(changed_paths(root, walker, settings.KLR_MAX_FILE_BYTES, only_changed=False))
    return pending.request(root, paths) if paths else 0


class Command(BaseCommand):
    help = "Watch source trees and send one analysis task per changed file."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="*", help="folders to watch (default: KLR_WATCH_PATHS, else .)")

    def handle(self, *args, paths: list[str], **options) -> None:
        roots = watched_roots(paths)
        try:
            ignores = {root: walker_for(root) for root in roots}
            for root in roots:
                reanalyze_all_if_reconfigured(root, ignores[root])
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        watcher = Watcher(
            roots,
            ignores,
            feeder(),
            settings.KLR_MAX_FILE_BYTES,
            sweep=partial(evaluation.sweep, send_evaluation),
            reconfigure=reanalyze_all_if_reconfigured,
            sweep_seconds=settings.KLR_EVALUATION_SWEEP_SECONDS,
        )
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
