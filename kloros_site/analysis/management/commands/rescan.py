from __future__ import annotations

import time
from collections import Counter
from functools import partial

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from kloros_site.analysis import evaluation, pending
from kloros_site.analysis.enqueue import feeder, send_evaluation
from kloros_site.analysis.management.commands.watch import watched_roots
from kloros_site.analysis.models import Question, SourceFile, Tree
from kloros_site.analysis.paths import remember_config, walker_for
from kloros_site.analysis.scan_wait import POLL_SECONDS, Waiting
from kloros_site.analysis.sync import changed_paths
from monitors.config import ConfigError


class Command(BaseCommand):
    help = "Analyze whole trees through the analysis tasks, with progress, and print a summary."
    # a client of the workers, as they are: the checks import every URL's views and admin
    # (~0.3 CPU s taken from the workers at the scan's start); `manage.py check` runs them
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="*", help="folders to scan (default: KLR_WATCH_PATHS, else .)")
        parser.add_argument(
            "--changed", action="store_true", help="send only files that differ from the store"
        )
        parser.add_argument("--no-wait", action="store_true", help="queue the work and return at once")
        parser.add_argument(
            "--timeout", type=float, default=0, help="give up waiting after this many seconds"
        )

    def handle(
        self, *args, paths: list[str], changed: bool, no_wait: bool, timeout: float, **options
    ) -> None:
        for root in watched_roots(paths):
            self._scan(root, changed, no_wait, timeout)

    def _scan(self, root, changed: bool, no_wait: bool, timeout: float) -> None:
        started = time.monotonic()
        try:
            walker = walker_for(root)
            reconfigured = remember_config(root)
        except ConfigError as exc:
            raise CommandError(str(exc)) from None
        if reconfigured and changed:
            self.stdout.write(f"{root}: [tool.kloros] changed; every file is analyzed again")
        only_changed = changed and not reconfigured
        paths = list(changed_paths(root, walker, settings.KLR_MAX_FILE_BYTES, only_changed=only_changed))
        total = pending.request(root, paths) if paths else 0
        self.stdout.write(f"{root}: {total} files queued for analysis")
        if not total:
            self._summary(root, time.monotonic() - started)
            return
        # this command feeds the workers itself, so it works with or without a running watcher
        work = feeder()
        work.feed()
        if no_wait:
            return
        tree = Tree.objects.get(path=str(root))
        waiting = Waiting(tree.pk, work.feed, partial(evaluation.sweep, send_evaluation))
        with tqdm(total=total, unit="file", disable=None, file=self.stderr._out) as bar:
            done = 0
            while not (now := waiting.poll()).settled:
                if timeout and time.monotonic() - started > timeout:
                    self.stderr.write(f"gave up waiting after {timeout:.0f} s; {now.left} files not done yet")
                    break
                stored = total - min(now.left, total)
                bar.update(stored - done)
                done = stored
                time.sleep(POLL_SECONDS)
        self._summary(root, time.monotonic() - started)

    def _summary(self, root, seconds: float) -> None:
        files = SourceFile.objects.filter(tree__path=str(root))
        status = Counter(files.values_list("status", flat=True))
        reasons = Counter(files.filter(status=SourceFile.Status.FAILED).values_list("reason", flat=True))
        open_questions = Counter(
            Question.objects.open().filter(tree__path=str(root)).values_list("hypothesis", flat=True)
        )
        self.stdout.write(
            f"{root}: {status['analyzed']} analyzed, {status['failed']} not analyzable, "
            f"{sum(open_questions.values())} open questions, in {seconds:.1f} s"
        )
        for reason, count in sorted(reasons.items()):
            self.stdout.write(f"  not analyzable ({reason}): {count}")
        for hypothesis, count in sorted(open_questions.items()):
            self.stdout.write(f"  {hypothesis}: {count}")
