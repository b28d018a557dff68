"""The watch loop: filesystem events in, pending work out, fed to the workers under a bound.

Events for a path are coalesced for a short quiet period, then recorded as one pending row;
the feeder reads the content when it sends the task, so it is always the newest. A kernel
queue overflow (watchdog only logs it) or a lost watch turns into a full reconcile of the
tree instead of lost changes; so does a database error. Django checks its connections only
around web requests, so after a database error this long-running process closes a broken
connection itself (close_old_connections): the next query reconnects once the server is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.db import DatabaseError, close_old_connections
from django.utils import timezone
from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from kloros_site.analysis import pending
from kloros_site.analysis.models import Tree
from kloros_site.analysis.pending import Feeder
from kloros_site.analysis.reader import relative
from kloros_site.analysis.sync import changed_paths, stored_files
from monitors.walk import Walker

log = logging.getLogger(__name__)
# while work is pending: how often to look for queue room and lost tasks (a file lost with a killed
# worker is sent again at the next tick; each costs a few indexed queries, only while work is pending)
TICK = 0.25
# after sending changes, the next ones wait at most this long so that a stream of saves goes a few
# files per message (each message is a task: its transaction, its evaluation trigger), not one each;
# saves further apart than this (an editor's) are sent as soon as they are seen
SEND_GAP = 0.05
# how long the mark of a tree whose changes the watcher holds lasts unless renewed (`_mark_holding`)
HOLD_SECONDS = 5.0
# git holds this file from the start of a checkout (merge, rebase, reset) to its end
GIT_LOCK = ".git/index.lock"


class TreeHandler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher, root: Path, ignore: Walker) -> None:
        self.watcher = watcher
        self.root = root
        self.ignore = ignore

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        paths = [event.src_path]
        if event.event_type == "moved":
            paths.append(event.dest_path)  # an editor's save by temp file + rename lands here
        for raw in paths:
            path = Path(raw if isinstance(raw, str) else raw.decode())
            rel = relative(self.root, path)
            if not rel or rel == ".":
                continue
            if rel == GIT_LOCK:
                # a checkout writes the files it changes in the tracked order, ignored ones too, and a
                # stretch of ignored files (a locale's .mo files) looks like the end of the change
                self.watcher.git_busy(self.root, (self.root / GIT_LOCK).exists())
            elif event.is_directory:
                # a folder's own "modified" only says an entry changed, and that entry has its event
                if event.event_type in ("created", "deleted", "moved"):
                    self._touch_folder(path, rel)
            elif rel.rpartition("/")[2] == ".gitignore":
                self.watcher.reconcile_soon()  # files it now leaves in (or out) bring no events
            elif not self.ignore.skips_file(rel):
                # a writer closing the file says it is done with it: no need to wait for quiet
                # (an editor's save by temp file + rename still waits, as do plain modifications)
                self.watcher.touch(self.root, rel, at_once=event.event_type == "closed")

    def _touch_folder(self, path: Path, rel: str) -> None:
        # a folder moved in or out brings no events for the files inside it
        if self.ignore.skips_dir(rel):
            return
        try:
            stored = list(stored_files(self.root, rel))
        except DatabaseError:
            # the database is away: an exception here would end watchdog's thread for good
            close_old_connections()
            self.watcher.reconcile_soon()
            return
        for path_ in stored:
            self.watcher.touch(self.root, path_)
        if path.is_dir():
            for found, _ in self.ignore.walk(path):
                self.watcher.touch(self.root, found)


class OverflowAlarm(logging.Handler):
    """watchdog reports a kernel queue overflow only as a log line; turn it into a reconcile."""

    def __init__(self, watcher: Watcher) -> None:
        super().__init__(logging.WARNING)
        self.watcher = watcher

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.watcher.reconcile_soon()


class Watcher:
    def __init__(
        self,
        roots: list[Path],
        ignore: dict[Path, Walker],
        feeder: Feeder,
        max_bytes: int,
        quiet_seconds: float = 0.02,
        sweep: Callable[[], int] | None = None,
        sweep_seconds: float = 5.0,
        reconfigure: Callable[[Path, Walker], int] | None = None,
        tick: float = TICK,
        send_gap: float = SEND_GAP,
    ) -> None:
        self.roots = roots
        self.ignore = ignore
        self.feeder = feeder
        self.max_bytes = max_bytes
        self.quiet = quiet_seconds
        # asks for the evaluations whose trigger died with a killed worker (evaluation.sweep)
        self.sweep = sweep
        self.sweep_seconds = sweep_seconds
        # a saved pyproject.toml may change [tool.kloros]: then every file is analyzed again
        self.reconfigure = reconfigure
        self._next_sweep = 0.0
        self.tick = tick  # the tests' watchers look again sooner than a whole second
        self.send_gap = send_gap
        self._held_until = 0.0  # no path is taken before this (see SEND_GAP)
        self._marked: dict[Path, float] = {}  # trees marked as held, until when (monotonic)
        self._git_busy: set[Path] = set()  # roots whose git checkout (or merge...) is running
        self._due: dict[tuple[Path, str], float] = {}
        self._reconcile = False
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self.observers: list = []
        self.alarm = OverflowAlarm(self)

    def touch(self, root: Path, rel: str, at_once: bool = False) -> None:
        with self._cond:
            self._due[(root, rel)] = time.monotonic() + (0.0 if at_once else self.quiet)
            self._cond.notify()

    def git_busy(self, root: Path, busy: bool) -> None:
        with self._cond:
            if busy:
                self._git_busy.add(root)
            else:
                self._git_busy.discard(root)
            self._cond.notify()

    def reconcile_soon(self) -> None:
        with self._cond:
            self._reconcile = True
            self._cond.notify()

    def reconcile(self) -> int:
        """Queue what changed while nobody watched (or while events were lost)."""
        count = 0
        for root in self.roots:
            changed = list(changed_paths(root, self.ignore[root], self.max_bytes))
            count += pending.request(root, changed) if changed else 0
        return count

    def start(self) -> None:
        for name in ("watchdog.observers.inotify_c", "watchdog.observers.inotify"):
            logging.getLogger(name).addHandler(self.alarm)
        for root in self.roots:
            handler = TreeHandler(self, root, self.ignore[root])
            observer = Observer()
            try:
                observer.schedule(handler, str(root), recursive=True)
                observer.start()
            except OSError as exc:
                # ENOSPC: the inotify watch limit is reached; polling is slower but loses nothing
                log.warning("cannot watch %s with inotify (%s); polling it instead", root, exc)
                observer = PollingObserver(timeout=2)
                observer.schedule(handler, str(root), recursive=True)
                observer.start()
            self.observers.append(observer)
        changed = self.reconcile()
        log.info("watching %s (%d changed since last run)", ", ".join(map(str, self.roots)), changed)

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify()
        for observer in self.observers:
            observer.stop()
        for observer in self.observers:
            observer.join(timeout=5)
        for name in ("watchdog.observers.inotify_c", "watchdog.observers.inotify"):
            logging.getLogger(name).removeHandler(self.alarm)

    def run(self) -> None:
        """Record coalesced paths as they fall quiet and feed the workers; blocks while idle."""
        backlog = self.feeder.has_backlog()
        while not self._stop.is_set():
            self._mark_holding()
            with self._cond:
                now = time.monotonic()
                ready = [key for key, due in self._due.items() if max(due, self._held_until) <= now]
                if not ready and not self._reconcile:
                    waits = [max(due, self._held_until) - now for due in self._due.values()]
                    waits += [self.tick] if backlog else []
                    if self.sweep:
                        waits.append(max(self._next_sweep - now, 0.0))
                    self._cond.wait(min(waits) if waits else None)
                    if self.sweep and time.monotonic() >= self._next_sweep:
                        self._sweep()
                    if not backlog or self._due or self._reconcile:
                        continue
                for key in ready:
                    del self._due[key]
                if ready:
                    self._held_until = now + self.send_gap
                reconcile, self._reconcile = self._reconcile, False
            try:
                if reconcile:
                    log.warning("events were lost; reconciled %d changed files", self.reconcile())
                by_root: dict[Path, list[str]] = {}
                for root, rel in ready:
                    by_root.setdefault(root, []).append(rel)
                for root, rels in by_root.items():
                    if self.reconfigure and "pyproject.toml" in rels:
                        self.reconfigure(root, self.ignore[root])
                    if not self.feeder.send_now(root, rels):
                        pending.request(root, rels)
                # what arrived while this pass sent (a checkout's next files) is marked before the
                # feed's queries: a worker may store the files just sent within ~20 ms
                self._mark_holding()
                self.feeder.feed()
                backlog = self.feeder.has_backlog()
            except Exception:
                # the database or broker is away: rebuild the whole picture from the filesystem
                # once it answers again, and record these paths again too: a reconcile cannot
                # see a change whose older version a worker stores after it (a file created,
                # its task retrying while the database is away, then deleted)
                log.exception("could not record or send changes; reconciling when possible")
                close_old_connections()
                self._stop.wait(self.tick)
                for root, rel in ready:
                    self.touch(root, rel)
                self.reconcile_soon()
                backlog = True

    def _mark_holding(self) -> None:
        """Mark the trees whose changes this watcher holds back (seen, not recorded yet: waiting
        for quiet or for the send gap), and unmark them once it holds none: their evaluation waits
        for those changes, so a checkout's first files, stored before the rest are even recorded,
        are not evaluated alone; and while git holds its index lock (a checkout running). Unmarking
        sweeps for evaluations: the tasks that found the tree held asked for none. A lone save its
        writer closed is sent as soon as it is seen and costs no statement here."""
        if not (self._due or self._git_busy or self._marked):
            return  # runs on every wake of the loop: nothing held, nothing to look at
        now = time.monotonic()
        with self._cond:
            # a marked tree stays marked while any of its changes is not recorded, ready ones too:
            # a pass that outlasts the send gap must not unmark the tree just before recording them
            held = {
                root
                for (root, _), due in self._due.items()
                if max(due, self._held_until) > now or root in self._marked
            } | self._git_busy
        try:
            for root in held:
                if self._marked.get(root, 0.0) - now < HOLD_SECONDS / 2:
                    until = timezone.now() + timedelta(seconds=HOLD_SECONDS)
                    Tree.objects.filter(path=str(root)).update(watcher_holds_until=until)
                    self._marked[root] = now + HOLD_SECONDS
            unmarked = set(self._marked) - held
            for root in unmarked:
                Tree.objects.filter(path=str(root)).update(watcher_holds_until=None)
                del self._marked[root]
            if unmarked:
                # its files may all be stored already, each task having found the tree held
                self._sweep()
        except Exception as exc:  # the database is away: the marks lapse, the pass reconciles
            log.warning("could not mark the trees whose changes are held: %s", exc)
            close_old_connections()

    def _sweep(self) -> None:
        if self.sweep is None:  # run() only calls this with a sweep
            return
        self._next_sweep = time.monotonic() + self.sweep_seconds
        try:
            self.sweep()
        except Exception as exc:  # the database or broker is away; the next sweep tries again
            log.warning("could not look for trees to evaluate: %s", exc)
            close_old_connections()
