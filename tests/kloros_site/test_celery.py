import subprocess
import sys
import textwrap

from kloros_site.celery import app


def test_tasks_are_json_only_and_acknowledged_late():
    assert app.conf.task_serializer == "json" and app.conf.accept_content == ["json"]
    assert app.conf.task_acks_late and app.conf.worker_prefetch_multiplier == 1
    assert not app.conf.task_reject_on_worker_lost  # a poison file must not come back forever
    assert app.conf.worker_max_memory_per_child and app.conf.task_time_limit > app.conf.task_soft_time_limit
    # a fresh pool process now and then: Python 3.13's parser keeps every identifier it parsed
    assert app.conf.worker_max_tasks_per_child == 250


def test_the_analysis_task_has_its_own_queue():
    assert app.conf.task_routes["kloros.analyze_file"] == {"queue": "analysis"}
    assert app.conf.task_routes["kloros.analyze_files"] == {"queue": "analysis"}  # a backlog's batches
    # evaluations beside it, outside its bound (kloros_site.celery.evaluation_queue)
    assert app.conf.task_routes["kloros.evaluate_tree"] == {"queue": "analysis-evaluate"}
    assert {q.name for q in app.conf.task_queues} == {"celery", "analysis", "analysis-evaluate"}


def test_pool_processes_get_a_hard_memory_cap(tmp_path):
    """In a fresh process, as a pool child would be: allocations past the cap fail with MemoryError."""
    script = textwrap.dedent(
        """
        import os, resource
        os.environ["KLR_WORKER_HARD_MEMORY_MB"] = "400"
        import django
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kloros_site.settings")
        django.setup()
        from kloros_site.celery import cap_memory
        cap_memory()
        print(resource.getrlimit(resource.RLIMIT_DATA)[0] // (1024 * 1024))
        try:
            block = bytearray(600 * 1024 * 1024)
            print("allocated")
        except MemoryError:
            print("MemoryError")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"KLR_STATE_DIR": str(tmp_path)},
        check=True,
    )
    assert result.stdout.split() == ["400", "MemoryError"]


# what only serves pages: a worker (which serves none) must not hold them in every pool process
PAGE_MODULES = (
    "kloros_site.urls",
    "kloros_site.analysis.admin",
    "kloros_site.analysis.pages",
    "kloros_site.analysis.channel_pages",
    "kloros_site.dashboard.live",
    "kloros_site.dashboard.views",
    "pygments",
    "prometheus_client",
)


def test_a_worker_imports_no_page_module_and_the_admin_still_lists_everything(tmp_path):
    """In a fresh process, as `celery -A kloros_site worker` starts: the app, then its task modules
    (Celery's Django fixup sets Django up there); then the URLconf, as the web process loads it."""
    script = textwrap.dedent(
        f"""
        import sys
        from kloros_site.celery import app
        app.loader.import_default_modules()
        print([name for name in {PAGE_MODULES!r} if name in sys.modules])
        from django.contrib import admin
        from django.urls import get_resolver
        from kloros_site.analysis.models import DeadLetter, PendingFile, Question, SourceFile, Transition, Tree
        get_resolver().url_patterns
        print(all(admin.site.is_registered(m) for m in (DeadLetter, PendingFile, Question, SourceFile, Transition, Tree)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"KLR_STATE_DIR": str(tmp_path), "CELERY_BROKER_URL": "filesystem://"},
        check=True,
    )
    assert result.stdout.split("\n")[:2] == ["[]", "True"]
