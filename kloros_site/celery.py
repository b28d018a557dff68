"""The Celery app: `celery -A kloros_site worker`."""

from __future__ import annotations

import os
import resource

from celery import Celery
from celery.signals import celeryd_after_setup, task_postrun, task_prerun, worker_process_init, worker_ready
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kloros_site.settings")
# Celery's Django fixup runs every system check when a worker imports its task modules, and the
# URL checks import the whole URLconf (the pages, the dashboard, prometheus_client): ~3 MB held
# by every pool child of a process that serves no page, for messages the fixup throws away. The
# checks fail a deployment where they should: `manage.py migrate` (./run.sh, deploy/) runs them all.
os.environ.setdefault("CELERY_SKIP_CHECKS", "1")

app = Celery("kloros_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Celery's Django fixup closes every database connection before and after each task unless told
# to reuse them: a new PostgreSQL connection (and server process) per analyzed file. Reuse them,
# and drop only the broken or old ones at task boundaries, as Django does between requests.
app.conf.update(CELERY_DB_REUSE_MAX=1000)
# the prefork pool, with a recycled pool process replaced at once (kloros_site.worker_pool)
app.conf.worker_pool = "kloros_site.worker_pool:TaskPool"
app.conf.imports = ("tasks.analysis", "tasks.bus", "tasks.control", "tasks.runtime")


def _queues() -> None:
    from django.conf import settings

    # the rate-limited analysis task gets its own queue so it cannot starve the relay
    name = settings.KLR_ANALYSIS_QUEUE
    arguments = {}
    if settings.CELERY_BROKER_URL.startswith(("amqp", "pyamqp")):
        # RabbitMQ enforces the bound itself as well; with publisher confirms a publish past
        # it fails loudly (the feeder keeps the row) instead of vanishing
        arguments = {"x-max-length": settings.KLR_QUEUE_BOUND, "x-overflow": "reject-publish"}
    # evaluations (at most one per tree at a time) have a queue of their own beside it: they
    # neither count against the analysis queue's bound nor wait behind a thousand extractions
    evaluate = evaluation_queue(name)
    app.conf.task_queues = [
        Queue("celery", Exchange("celery"), routing_key="celery"),
        Queue(name, Exchange(name), routing_key=name, queue_arguments=arguments),
        Queue(evaluate, Exchange(evaluate), routing_key=evaluate),
    ]
    app.conf.task_default_queue = "celery"
    app.conf.task_routes = {
        "kloros.analyze_file": {"queue": name},
        "kloros.analyze_files": {"queue": name},
        "kloros.evaluate_tree": {"queue": evaluate},
        "kloros.runtime_check": {"queue": settings.KLR_RUNTIME_QUEUE},
    }
    # `celery beat --scheduler celery.beat:Scheduler` (in memory: beat keeps no pickled state):
    # a sweep for transitions whose committing worker died before publishing them,
    # a sweep for trees whose evaluation trigger died with its worker, and the runtime
    # questions (a check that waited longer than its period is dropped, not piled up)
    every = settings.KLR_RUNTIME_CHECK_SECONDS
    app.conf.beat_schedule = {
        "outbox-sweep": {"task": "kloros.publish_backlog", "schedule": 60.0},
        "evaluation-sweep": {
            "task": "kloros.evaluation_sweep",
            "schedule": settings.KLR_EVALUATION_SWEEP_SECONDS,
        },
        "runtime-check": {"task": "kloros.runtime_check", "schedule": every, "options": {"expires": every}},
    }


def evaluation_queue(analysis_queue: str) -> str:
    return f"{analysis_queue}-evaluate"


_queues()


@celeryd_after_setup.connect
def consume_evaluations(sender, instance, **kwargs) -> None:
    """A worker that extracts (`--queues=analysis`) also evaluates: no deployment needs to name
    the evaluation queue."""
    from django.conf import settings

    queues = instance.app.amqp.queues
    if settings.KLR_ANALYSIS_QUEUE in queues.consume_from:
        queues.select_add(evaluation_queue(settings.KLR_ANALYSIS_QUEUE))


# True in a worker's processes (pool children and the main process): their claims keep a heartbeat
# thread (kloros_site.analysis.claims); a task run in a test or a shell must not start one
in_worker = False


# in a pool process: the pid of its worker's main process, which started it (claims.beat records it)
pool_parent: int | None = None


@worker_process_init.connect
@worker_ready.connect
def mark_worker_process(**kwargs) -> None:
    global in_worker
    in_worker = True


@worker_process_init.connect
def note_pool_parent(**kwargs) -> None:
    global pool_parent
    pool_parent = os.getppid()


@worker_process_init.connect
def cap_memory(**kwargs) -> None:
    """A hard memory cap per pool process.

    worker_max_memory_per_child is checked only after a task ends; a runaway analysis would
    grow until then. With RLIMIT_DATA the allocation fails instead (MemoryError, recorded as
    the file's reason), and the child is recycled after the task.
    """
    from django.conf import settings

    limit_mb = settings.KLR_WORKER_HARD_MEMORY_MB
    if limit_mb:
        limit = limit_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


@task_prerun.connect
@task_postrun.connect
def drop_broken_connections(**kwargs) -> None:
    """A connection that failed (a database restart) or outlived CONN_MAX_AGE is closed; the next
    query opens a fresh one."""
    from django.db import close_old_connections

    close_old_connections()
