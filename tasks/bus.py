from __future__ import annotations

from celery.signals import worker_ready

from kloros_site.analysis import relay
from kloros_site.celery import app


@app.task(name="kloros.publish_backlog")
def publish_backlog() -> bool:
    return relay.publish_backlog()


@worker_ready.connect
def drain_outbox_at_start(**kwargs) -> None:
    # transitions committed by a worker that died before publishing them go out now
    relay.retry_loop.wake()
