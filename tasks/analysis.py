from __future__ import annotations

from django.conf import settings
from django.db import InterfaceError, OperationalError

from kloros_site.analysis.services import FileVersion, record
from kloros_site.celery import app


@app.task(
    name="kloros.analyze_file",
    queue=settings.KLR_ANALYSIS_QUEUE,
    rate_limit=settings.KLR_ANALYSIS_RATE_LIMIT,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=3,
)
def analyze_file(message: dict) -> str:
    """Analyze one file version carried in full by the message; the worker reads no files."""
    return record(FileVersion.from_message(message))


def dispatch(version: FileVersion) -> None:
    analyze_file.apply_async(args=[version.to_message()], queue=settings.KLR_ANALYSIS_QUEUE)
