from __future__ import annotations

import time
from collections import Counter

from django.conf import settings
from django.core.management.base import BaseCommand
from tqdm import tqdm

from kloros_site.analysis.management.commands.watch import watched_roots
from kloros_site.analysis.models import Question, SourceFile
from kloros_site.analysis.paths import Ignore
from kloros_site.analysis.sync import versions
from tasks.analysis import dispatch


class Command(BaseCommand):
    help = "Analyze whole trees through the analysis tasks, with progress, and print a summary."

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="*", help="folders to scan (default: KLR_WATCH_PATHS, else .)")
        parser.add_argument(
            "--changed", action="store_true", help="send only files that differ from the store"
        )
        parser.add_argument("--no-wait", action="store_true", help="send the tasks and return at once")
        parser.add_argument(
            "--timeout", type=float, default=0, help="give up waiting after this many seconds"
        )

    def handle(
        self, *args, paths: list[str], changed: bool, no_wait: bool, timeout: float, **options
    ) -> None:
        for root in watched_roots(paths):
            self._scan(root, changed, no_wait, timeout)

    def _scan(self, root, changed: bool, no_wait: bool, timeout: float) -> None:
        started = time.time()
        start_seq = time.time_ns()
        sent = 0
        for version in versions(
            root, Ignore(root, settings.KLR_IGNORE), settings.KLR_MAX_FILE_BYTES, only_changed=changed
        ):
            dispatch(version)
            sent += 1
        self.stdout.write(f"{root}: sent {sent} files for analysis")
        if no_wait or not sent:
            return
        done_rows = SourceFile.objects.filter(tree__path=str(root), seq__gte=start_seq)
        with tqdm(total=sent, unit="file", disable=None, file=self.stderr._out) as bar:
            done = 0
            while done < sent:
                if timeout and time.time() - started > timeout:
                    self.stderr.write(
                        f"gave up waiting after {timeout:.0f} s; {sent - done} files still queued"
                    )
                    break
                time.sleep(0.2)
                now = done_rows.count()
                bar.update(now - done)
                done = now
        self._summary(root, time.time() - started)

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
