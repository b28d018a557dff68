"""The watcher on a real filesystem with real inotify; the broker is a list (tests/e2e has real ones)."""

import logging
import shutil
import threading
import time

import pytest
from django.utils import timezone

from kloros_site.analysis.models import PendingFile, SourceFile, Tree
from kloros_site.analysis.paths import walker_for
from kloros_site.analysis.pending import Feeder
from kloros_site.analysis.services import record
from kloros_site.analysis.watcher import Watcher

pytestmark = pytest.mark.django_db(transaction=True)


class Sent(list):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []  # files in each message of several

    def batch(self, versions) -> None:
        self.batches.append(len(versions))
        self.extend(versions)

    def paths(self) -> list[str]:
        return [v.path for v in self]

    def work(self) -> None:
        while self:
            record(self.pop(0))


@pytest.fixture
def watch(tmp_path, wait_until):
    root = tmp_path / "root"
    root.mkdir()
    sent = Sent()
    watchers = []

    def start(files: int = 1, **options) -> Watcher:
        feeder = Feeder(
            sent.append,
            lambda: 0,
            1000,
            60,
            dispatch_batch=sent.batch,
            batch_files=files,
            batch_bytes=1 << 20,
        )
        watcher = Watcher([root], {root: walker_for(root)}, feeder, 10_000, tick=0.1, **options)
        watcher.start()
        thread = threading.Thread(target=watcher.run, daemon=True)
        thread.start()
        watchers.append((watcher, thread))
        return watcher

    yield root, sent, start
    for watcher, thread in watchers:
        watcher.stop()
        thread.join(timeout=10)


def test_a_saved_file_is_sent_with_its_content(watch, wait_until):
    root, sent, start = watch
    start()
    (root / "a.py").write_text("x = 1\n")
    wait_until(lambda: "a.py" in sent.paths())
    assert sent[-1].data == b"x = 1\n"


def test_a_burst_of_saves_is_sent_a_few_times_with_the_final_content_last(watch, wait_until):
    root, sent, start = watch
    start()
    target = root / "hot.py"
    for i in range(50):
        target.write_text(f"x = {i}\n")
    wait_until(lambda: sent and sent[-1].data == b"x = 49\n", message=f"last sent: {sent[-1:]}")
    assert len(sent) < 10, f"{len(sent)} tasks for one burst of 50 saves"


def test_a_file_its_writer_closed_is_sent_without_waiting_for_quiet(watch, wait_until):
    root, sent, start = watch
    start(quiet_seconds=3600)
    with open(root / "open.py", "w") as handle:
        handle.write("x = 1\n")
        handle.flush()
        (root / "closed.py").write_text("y = 1\n")
        wait_until(lambda: "closed.py" in sent.paths())
        assert "open.py" not in sent.paths()  # written, not closed yet: it waits for its close
    wait_until(lambda: "open.py" in sent.paths())
    assert sent[-1].data == b"x = 1\n"


def test_a_stream_of_saves_goes_several_files_per_message(watch, wait_until):
    root, sent, start = watch
    start(files=16, send_gap=0.5)
    for i in range(20):
        (root / f"s{i}.py").write_text(f"x = {i}\n")
    wait_until(lambda: len(sent) == 20, message=f"sent: {sent.paths()}")
    assert sum(sent.batches) > 1, f"messages of one file each: {sent.paths()}"


def test_a_tree_is_marked_unsettled_while_the_watcher_holds_its_changes(watch, wait_until):
    """A checkout's first file is sent at once and the rest held for the send gap: stored alone, it
    must not look like a settled tree to its evaluation (bench/run.sh branch: questions opened on
    the half-switched tree and resolved again)."""
    root, sent, start = watch
    start(send_gap=2.0)
    (root / "first.py").write_text("x = 1\n")
    wait_until(lambda: "first.py" in sent.paths())
    tree = Tree.objects.get()
    assert tree.watcher_holds_until is None  # a lone save costs no mark
    (root / "second.py").write_text("y = 1\n")
    wait_until(lambda: Tree.objects.filter(watcher_holds_until__gt=timezone.now()).exists())
    assert "second.py" not in sent.paths()
    wait_until(lambda: "second.py" in sent.paths())
    wait_until(lambda: Tree.objects.filter(watcher_holds_until=None).exists())


def test_a_change_waiting_for_quiet_marks_its_tree_too(watch, wait_until):
    """git deletes files as it switches branches: a deletion waits for quiet, and meanwhile the tree
    is not settled (a switch's evaluation once ran at +0.9 s on the half-switched tree)."""
    root, sent, start = watch
    start(quiet_seconds=2.0)
    (root / "gone.py").write_text("x = 1\n")
    wait_until(lambda: "gone.py" in sent.paths())
    wait_until(lambda: Tree.objects.filter(watcher_holds_until=None).exists())
    (root / "gone.py").unlink()
    wait_until(lambda: Tree.objects.filter(watcher_holds_until__gt=timezone.now()).exists())
    assert not [v for v in sent if v.deleted]
    wait_until(lambda: [v for v in sent if v.deleted])
    wait_until(lambda: Tree.objects.filter(watcher_holds_until=None).exists())


def test_a_tree_is_marked_while_git_holds_its_index_lock_and_swept_after(watch, wait_until):
    """A checkout writes ignored files too (Django's locale .mo files): a stretch of them between
    two watched files looked like the end of the change, and the first files were evaluated alone
    (bench/run.sh branch: the same question opened and resolved in the first switch of each run)."""
    root, sent, start = watch
    (root / ".git").mkdir()
    swept: list[float] = []
    start(sweep=lambda: swept.append(time.monotonic()))
    (root / "a.py").write_text("x = 1\n")
    wait_until(lambda: "a.py" in sent.paths())
    lock = root / ".git" / "index.lock"
    lock.write_text("")
    wait_until(lambda: Tree.objects.filter(watcher_holds_until__gt=timezone.now()).exists())
    (root / "b.py").write_text("y = 1\n")
    wait_until(lambda: "b.py" in sent.paths())
    assert Tree.objects.filter(watcher_holds_until__gt=timezone.now()).exists()  # git still runs
    before = len(swept)
    lock.rename(root / ".git" / "index")
    wait_until(lambda: Tree.objects.filter(watcher_holds_until=None).exists())
    wait_until(lambda: len(swept) > before)


def test_an_editor_save_by_rename_and_ignored_files(watch, wait_until):
    root, sent, start = watch
    (root / "build").mkdir()
    (root / ".gitignore").write_text("build/\n")
    start()
    (root / "build" / "gen.py").write_text("x = 1\n")
    temp = root / ".mod.py.swp"
    temp.write_text("x = 2\n")
    temp.rename(root / "mod.py")
    wait_until(lambda: "mod.py" in sent.paths())
    assert sent[-1].data == b"x = 2\n"
    assert "build/gen.py" not in sent.paths() and ".mod.py.swp" not in sent.paths()


def test_folders_moved_in_and_out(watch, tmp_path, wait_until):
    root, sent, start = watch
    outside = tmp_path / "outside"
    (outside / "pkg").mkdir(parents=True)
    (outside / "pkg" / "a.py").write_text("a = 1\n")
    (outside / "pkg" / "b.py").write_text("b = 1\n")
    start()
    shutil.move(str(outside / "pkg"), str(root / "pkg"))
    wait_until(lambda: {"pkg/a.py", "pkg/b.py"} <= set(sent.paths()))
    sent.work()
    shutil.move(str(root / "pkg"), str(outside / "pkg2"))
    wait_until(lambda: sum(v.deleted for v in sent) == 2, message=f"sent: {sent}")
    assert {v.path for v in sent if v.deleted} == {"pkg/a.py", "pkg/b.py"}


def test_start_sends_only_what_changed_while_nobody_watched(watch, wait_until):
    root, sent, start = watch
    for name in ("same.py", "edited.py", "deleted.py"):
        (root / name).write_text(f"# {name}\n")
    watcher = start()
    wait_until(lambda: len(sent) == 3)
    sent.work()
    watcher.stop()
    sent.clear()
    (root / "edited.py").write_text("# edited again\n")
    (root / "deleted.py").unlink()
    (root / "new.py").write_text("# new\n")
    start()
    wait_until(lambda: len(sent) == 3)
    assert sorted(sent.paths()) == ["deleted.py", "edited.py", "new.py"]
    assert not PendingFile.objects.filter(dispatched_at__isnull=True).exists()


def test_a_kernel_queue_overflow_reconciles_the_tree(watch, wait_until):
    root, sent, start = watch
    watcher = start()
    (root / "a.py").write_text("x = 1\n")
    wait_until(lambda: sent.paths() == ["a.py"])
    sent.work()
    for observer in watcher.observers:  # events from here on are lost, as in an overflow
        observer.unschedule_all()
    (root / "a.py").write_text("x = 2\n")
    (root / "b.py").write_text("y = 1\n")
    logging.getLogger("watchdog.observers.inotify_c").warning(
        "Inotify queue overflowed; filesystem events were lost"
    )
    wait_until(lambda: sorted(sent.paths()) == ["a.py", "b.py"], message=f"sent: {sent.paths()}")


def test_changes_taken_while_the_database_fails_are_reconciled(watch, wait_until, monkeypatch):
    root, sent, start = watch
    start()
    from kloros_site.analysis import pending as pending_module

    # the one statement that records changes, whether sent at once or left for the feeder
    real_upsert = pending_module._upsert
    failures = []

    def flaky_upsert(*args, **kwargs):
        if not failures:
            failures.append(args)
            raise RuntimeError("database away")
        return real_upsert(*args, **kwargs)

    monkeypatch.setattr(pending_module, "_upsert", flaky_upsert)
    (root / "a.py").write_text("x = 1\n")
    wait_until(lambda: "a.py" in sent.paths(), message="a change lost while the database failed")
    assert failures


def test_a_deletion_the_database_refused_is_recorded_after_an_older_version_is_stored(
    watch, wait_until, monkeypatch
):
    # seen in the PostgreSQL restart storm: a.py created and sent, its task retrying while the
    # database is away; a.py deleted, and that event refused; the reconcile then saw a.py neither
    # stored nor on disk, the retried task stored its creation, and the deletion was lost
    root, sent, start = watch
    start()
    (root / "a.py").write_text("x = 1\n")
    wait_until(lambda: sent.paths() == ["a.py"])
    from django.db import OperationalError

    from kloros_site.analysis import pending as pending_module

    real_upsert = pending_module._upsert
    failures = []

    def away_once(*args, **kwargs):
        if not failures:
            failures.append(args)
            raise OperationalError("the connection is closed")
        return real_upsert(*args, **kwargs)

    monkeypatch.setattr(pending_module, "_upsert", away_once)
    (root / "a.py").unlink()
    wait_until(lambda: len(sent) == 2, message=f"the deletion was not sent again: {sent}")
    assert failures
    assert [(v.path, v.deleted) for v in sent] == [("a.py", False), ("a.py", True)]
    sent.work()  # the creation (older) is stored first, the deletion after it
    assert list(SourceFile.objects.values_list("path", "status")) == [("a.py", "deleted")]


def test_a_folder_moved_in_while_the_database_is_away_is_reconciled_and_watching_goes_on(
    watch, tmp_path, wait_until, monkeypatch
):
    root, sent, start = watch
    outside = tmp_path / "outside"
    (outside / "pkg").mkdir(parents=True)
    (outside / "pkg" / "a.py").write_text("a = 1\n")
    start()
    from django.db import OperationalError

    from kloros_site.analysis import watcher as watcher_module

    real_stored_files = watcher_module.stored_files
    failures = []

    def away_once(*args, **kwargs):
        if not failures:
            failures.append(args)
            raise OperationalError("the connection is closed")
        return real_stored_files(*args, **kwargs)

    # the folder's event looks its stored files up on watchdog's own thread
    monkeypatch.setattr(watcher_module, "stored_files", away_once)
    shutil.move(str(outside / "pkg"), str(root / "pkg"))
    wait_until(lambda: "pkg/a.py" in sent.paths(), message=f"sent: {sent.paths()}")
    assert failures
    (root / "later.py").write_text("b = 1\n")  # events still arrive: the thread lived on
    wait_until(lambda: "later.py" in sent.paths(), message=f"sent: {sent.paths()}")


def test_a_new_file_in_a_big_folder_sends_that_file_only(watch, wait_until):
    root, sent, start = watch
    (root / "pkg").mkdir()
    for i in range(30):
        (root / "pkg" / f"m{i}.py").write_text(f"x = {i}\n")
    start()
    wait_until(lambda: len(sent) == 30)
    sent.work()
    (root / "pkg" / "new.py").write_text("y = 1\n")
    (root / "pkg" / "m3.py").write_text("x = 'edited'\n")
    wait_until(lambda: {"pkg/new.py", "pkg/m3.py"} <= set(sent.paths()))
    time.sleep(0.5)  # let any stray folder event arrive before counting
    assert sorted(sent.paths()) == ["pkg/m3.py", "pkg/new.py"]


def test_a_gitignore_edit_brings_in_the_files_it_stops_ignoring(watch, wait_until):
    root, sent, start = watch
    (root / "gen").mkdir()
    (root / "gen" / "out.py").write_text("x = 1\n")
    (root / "a.py").write_text("a = 1\n")
    (root / ".gitignore").write_text("gen/\n")
    start()
    wait_until(lambda: sent.paths() == ["a.py"])
    sent.work()
    (root / ".gitignore").write_text("# nothing ignored any more\n")  # no event for gen/out.py itself
    wait_until(lambda: "gen/out.py" in sent.paths(), message=f"sent: {sent.paths()}")
