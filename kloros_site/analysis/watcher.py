"""The watch loop: filesystem events in, one analysis task per changed file out.

Events for a path are coalesced for a short quiet period, so an editor's burst of writes
(or 50 saves in a row) sends the final content once; the content is read when the task is
sent, so it is always the newest.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from kloros_site.analysis.paths import Ignore
from kloros_site.analysis.reader import read_version, relative
from kloros_site.analysis.sync import Dispatch, stored_files, versions

log = logging.getLogger(__name__)


class TreeHandler(FileSystemEventHandler):
    def __init__(self, watcher: Watcher, root: Path, ignore: Ignore) -> None:
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
            if event.is_directory:
                self._touch_folder(path, rel)
            elif not self.ignore.skips_file(rel):
                self.watcher.touch(self.root, path)

    def _touch_folder(self, path: Path, rel: str) -> None:
        # a folder moved in or out brings no events for the files inside it
        if self.ignore.skips_dir(rel):
            return
        for stored in stored_files(self.root, rel):
            self.watcher.touch(self.root, self.root / stored)
        if path.is_dir():
            for found in self.ignore.walk_under(path):
                self.watcher.touch(self.root, found)


class Watcher:
    def __init__(
        self,
        roots: list[Path],
        ignore: dict[Path, Ignore],
        dispatch: Dispatch,
        max_bytes: int,
        quiet_seconds: float = 0.02,
    ) -> None:
        self.roots = roots
        self.ignore = ignore
        self.dispatch = dispatch
        self.max_bytes = max_bytes
        self.quiet = quiet_seconds
        self._due: dict[tuple[Path, Path], float] = {}
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self.observer = Observer()
        self.sent = 0

    def touch(self, root: Path, path: Path) -> None:
        with self._cond:
            self._due[(root, path)] = time.monotonic() + self.quiet
            self._cond.notify()

    def reconcile(self, root: Path) -> int:
        """Send what changed while nobody watched: new, edited and deleted files."""
        count = 0
        for version in versions(root, self.ignore[root], self.max_bytes, only_changed=True):
            self.dispatch(version)
            count += 1
        return count

    def start(self) -> None:
        for root in self.roots:
            self.observer.schedule(TreeHandler(self, root, self.ignore[root]), str(root), recursive=True)
        self.observer.start()
        for root in self.roots:
            changed = self.reconcile(root)
            log.info("watching %s (%d changed since last run)", root, changed)

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify()
        self.observer.stop()
        self.observer.join(timeout=5)

    def run(self) -> None:
        """Send coalesced paths as they fall quiet, until stop(); blocks while idle."""
        while not self._stop.is_set():
            with self._cond:
                if not self._due:
                    self._cond.wait()
                    continue
                now = time.monotonic()
                ready = [key for key, due in self._due.items() if due <= now]
                if not ready:
                    self._cond.wait(min(self._due.values()) - now)
                    continue
                for key in ready:
                    del self._due[key]
            for root, path in ready:
                try:
                    self.dispatch(read_version(root, path, self.max_bytes))
                    self.sent += 1
                except Exception:
                    log.exception("could not send %s; it will be picked up by the next reconcile", path)
