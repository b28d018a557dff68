"""Prometheus metrics, computed at scrape time from the database, the broker and the workers.

The analysis runs in worker processes, so in-process counters of the web process would count
nothing; a custom collector reads the shared state instead. Figures that are really current
states (files by status, open questions) are gauges; only rows that are never rewritten back
(outbox transitions, dead letters) are exposed as counters.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.conf import settings
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from kloros_site.analysis.models import DeadLetter, Transition
from kloros_site.dashboard import stats


class AnalyzerCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        database = stats.database_ok()
        broker = stats.broker_ok()
        up = GaugeMetricFamily(
            "kloros_up", "Whether a dependency answers (1) or not (0).", labels=["component"]
        )
        up.add_metric(["database"], float(database))
        up.add_metric(["broker"], float(broker))
        yield up

        depth = stats.queue_depth() if broker else None
        if depth is not None:
            yield GaugeMetricFamily(
                "kloros_queue_depth",
                "Analysis tasks waiting in the broker queue.",
                value=depth,
                labels=None,
            )

        workers = stats.workers()
        yield GaugeMetricFamily("kloros_workers_online", "Workers answering a broadcast.", value=len(workers))
        memory = GaugeMetricFamily(
            "kloros_worker_memory_bytes",
            "Resident memory of each worker process, main and pool (pid label).",
            labels=["worker", "pid"],
        )
        for worker in workers:
            for pid, megabytes in sorted(worker.process_memory_mb.items()):
                memory.add_metric([worker.name, pid], megabytes * stats.MB)
        yield memory
        yield GaugeMetricFamily(
            "kloros_seconds_without_worker",
            "Seconds since a worker last answered (0 while one does).",
            value=stats.seconds_without_worker(),
        )
        if database:
            yield from self._database_metrics()

    def _database_metrics(self) -> Iterator[Metric]:
        yield from self._file_metrics()
        yield from self._question_metrics()
        yield from self._outbox_metrics()
        yield self._latency_metric()

    @staticmethod
    def _file_metrics() -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "kloros_pending_files", "Files the watcher still owes the workers.", value=stats.pending_count()
        )
        yield GaugeMetricFamily(
            "kloros_cache_files",
            "Files in the analysis cache (deleted ones excluded).",
            value=stats.cache_size(),
        )
        files = GaugeMetricFamily("kloros_files", "Files of the analysis cache by status.", labels=["status"])
        for status, count in stats.files_by_status().items():
            files.add_metric([status], count)
        yield files
        yield GaugeMetricFamily(
            "kloros_analysis_errors_last_minute",
            "Files whose analysis failed in the last minute.",
            value=stats.errors_last_minute(),
        )

    @staticmethod
    def _question_metrics() -> Iterator[Metric]:
        questions = GaugeMetricFamily(
            "kloros_questions", "Questions by monitor and status.", labels=["monitor", "status"]
        )
        for monitor, status, count in stats.questions_by_monitor_and_status():
            questions.add_metric([monitor, status], count)
        yield questions
        open_by = GaugeMetricFamily(
            "kloros_open_questions",
            "Open questions by hypothesis and severity.",
            labels=["hypothesis", "severity"],
        )
        for (hypothesis, severity), count in stats.open_questions_grouped("hypothesis", "severity"):
            open_by.add_metric([hypothesis, severity], count)
        yield open_by

    @staticmethod
    def _outbox_metrics() -> Iterator[Metric]:
        transitions = CounterMetricFamily(
            "kloros_transitions", "Question transitions written to the outbox, by kind.", labels=["kind"]
        )
        for kind, count in Transition.objects.count_by_kind().items():
            transitions.add_metric([kind], count)
        yield transitions
        yield GaugeMetricFamily(
            "kloros_transitions_unpublished",
            "Outbox rows not yet published on ChemBus.",
            value=stats.unpublished_transitions(),
        )
        yield CounterMetricFamily(
            "kloros_dead_letters",
            "Tasks that kept failing and were set aside.",
            value=DeadLetter.objects.count(),
        )

    @staticmethod
    def _latency_metric() -> Metric:
        window = timedelta(seconds=settings.KLR_METRICS_LATENCY_WINDOW_SECONDS)
        cumulative, count, total = stats.latency_histogram(window)
        buckets = [(_le(bound), n) for bound, n in cumulative] + [("+Inf", count)]
        return HistogramMetricFamily(
            "kloros_event_to_question_latency_seconds",
            f"From a file change being read to its question transition, over the last {window.total_seconds():.0f} s "
            "(a sliding window: use histogram_quantile on it directly, not on rate()).",
            buckets=buckets,
            sum_value=total,
        )


def _le(bound: float) -> str:
    return repr(float(bound))


def render(accept: str = "") -> tuple[bytes, str]:
    """The exposition and its content type, in the format the scraper asked for (Accept header)."""
    # a private registry: the default one would add the web process's own metrics, which say
    # nothing about the analyzer, and a collector registered twice at import would raise
    registry = CollectorRegistry(auto_describe=False)
    registry.register(AnalyzerCollector())
    encoder, content_type = choose_encoder(accept)
    return encoder(registry), content_type
