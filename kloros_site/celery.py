"""The Celery app: `celery -A kloros_site worker`."""

from __future__ import annotations

import os

from celery import Celery
from kombu import Exchange, Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kloros_site.settings")

app = Celery("kloros_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.imports = ("tasks.analysis", "tasks.bus")


def _queues() -> None:
    from django.conf import settings

    # the rate-limited analysis task gets its own queue so it cannot starve the relay
    name = settings.KLR_ANALYSIS_QUEUE
    arguments = {}
    if settings.CELERY_BROKER_URL.startswith(("amqp", "pyamqp")):
        # RabbitMQ enforces the bound itself as well; with publisher confirms a publish past
        # it fails loudly (the feeder keeps the row) instead of vanishing
        arguments = {"x-max-length": settings.KLR_QUEUE_BOUND, "x-overflow": "reject-publish"}
    app.conf.task_queues = [
        Queue("celery", Exchange("celery"), routing_key="celery"),
        Queue(name, Exchange(name), routing_key=name, queue_arguments=arguments),
    ]
    app.conf.task_default_queue = "celery"


_queues()
