"""What the analyzer knows: files of watched trees, their postings, questions and bus transitions.

The models know nothing of Celery or the bus; the logic that spans rows sits on managers
and in kloros_site.analysis.store / services.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.db.models import Count
from django.utils import timezone

from monitors.config import DEFAULT, Config


class Tree(models.Model):
    """A watched root. Questions are about one tree: cross-file means within it."""

    path = models.CharField(max_length=1024, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # an evaluation task was sent and has not finished: no second one is sent meanwhile
    evaluation_requested_at = models.DateTimeField(null=True, blank=True)
    # the worker process running that evaluation (kloros_site.analysis.claims): if it is gone, the
    # evaluation was lost with it and another may be requested at once
    evaluation_claimed_by = models.CharField(max_length=255, blank=True, default="")
    # when the last evaluation ended: a trickle that never settles is evaluated once per delay
    evaluated_at = models.DateTimeField(null=True, blank=True)
    # until then the watcher holds changes of this tree it has seen and not recorded yet (a stream's
    # saves, kept a moment to go together): the tree has not settled. A time, not a flag, so that a
    # watcher that died holding them cannot keep the tree unsettled
    watcher_holds_until = models.DateTimeField(null=True, blank=True)
    # the tree's [tool.kloros] (monitors.config.Config.to_json), read by the watcher and rescan:
    # workers read no files, so they analyze and evaluate with what is stored here
    config = models.JSONField(default=dict, blank=True)

    def analysis_config(self) -> Config:
        return Config.from_json(self.config) if self.config else DEFAULT

    def __str__(self) -> str:
        return self.path


class SourceFileQuerySet(models.QuerySet):
    def cache_size(self) -> int:
        """Files the analysis cache holds (tombstones of deleted files excluded)."""
        return self.exclude(status=SourceFile.Status.DELETED).count()

    def count_by_status(self) -> dict[str, int]:
        counts = dict.fromkeys(SourceFile.Status.values, 0)
        for row in self.values("status").annotate(n=Count("id")).order_by():
            counts[row["status"]] = row["n"]
        return counts

    def failed_since(self, since: datetime) -> int:
        """Files whose analysis failed at or after `since`."""
        return self.filter(status=SourceFile.Status.FAILED, analyzed_at__gte=since).count()


class SourceFileManager(models.Manager.from_queryset(SourceFileQuerySet)):  # type: ignore[misc]
    def get_queryset(self) -> models.QuerySet:
        # the stored source is read by the file and question pages only; every other query
        # (the workers' included) leaves it in the database
        return super().get_queryset().defer("source")


class SourceFile(models.Model):
    """The analysis cache entry of one file: what was seen last, and how its analysis went."""

    class Status(models.TextChoices):
        ANALYZED = "analyzed"
        FAILED = "failed"  # analysis impossible: the reason says why (syntax error, too large, ...)
        DELETED = "deleted"  # kept as a tombstone so an older, late task cannot resurrect it

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=1024)
    status = models.CharField(max_length=16, choices=Status.choices)
    sha256 = models.CharField(max_length=64, blank=True)
    size = models.BigIntegerField(default=0)
    mtime_ns = models.BigIntegerField(default=0)
    # version of what was analyzed: when the content was read (ns); older tasks are no-ops
    seq = models.BigIntegerField(default=0)
    engine_version = models.CharField(max_length=16, blank=True, help_text="fingerprint of the analysis code")
    analyzed_at = models.DateTimeField(null=True)
    duration_ms = models.FloatField(null=True)
    latency_ms = models.FloatField(
        null=True, help_text="from the change being read to its analysis committed"
    )
    reason = models.CharField(max_length=32, blank=True)
    detail = models.TextField(blank=True)
    # what was analyzed, zlib-compressed (kloros_site.analysis.source), at most KLR_MAX_FILE_BYTES
    # before compression: the question and file pages show it without reading the tree
    source = models.BinaryField(null=True, blank=True, editable=False)

    objects = SourceFileManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tree", "path"], name="unique_file_per_tree")]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.path


class EvaluationRound(models.Model):
    """A round of keys of a big evaluation, waiting for a worker (kloros_site.analysis.rounds).

    The evaluation writes its rounds here and asks other workers to help: each round is
    evaluated by the first to claim it, in a transaction that deletes the row. A worker killed
    mid-round leaves the row, which the evaluation evaluates itself.
    """

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, related_name="evaluation_rounds")
    keys = models.JSONField()
    oldest = models.BigIntegerField(help_text="when the evaluation's oldest change was read (ns)")
    holder = models.IntegerField(
        default=0,
        help_text="the PostgreSQL backend of the evaluation, which holds the tree's evaluation lock",
    )


# The rows a cold scan writes by the hundred thousand (postings, read-sets) have no foreign key
# constraint in the database: PostgreSQL checks a deferred one row by row at commit (3.4 s for the
# 540,000 read-sets of a 10,000-file tree, the evaluation's biggest single cost). Their files and
# trees are only ever deleted through the ORM, which deletes these rows too (on_delete), and
# they are written only by an extraction holding the file's row or an evaluation holding the tree.
class Posting(models.Model):
    """One file's payload under one index key (see monitors.engine)."""

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, db_constraint=False)
    file = models.ForeignKey(
        SourceFile, on_delete=models.CASCADE, related_name="postings", db_constraint=False
    )
    key = models.CharField(max_length=512)
    payload = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["file", "key"], name="unique_posting")]
        indexes = [
            # byte-wise order on PostgreSQL (ignored elsewhere): besides a key's rows, it finds a
            # kind's, `key LIKE 'integration:class:%'` (posting_memory), which an index in the
            # database's collation cannot: every kind loaded read all the tree's postings
            models.Index(
                fields=["tree", "key"],
                name="posting_tree_key_bytes",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            )
        ]


class ChangedKeys(models.Model):
    """Keys whose postings one extraction changed, waiting for the tree's next evaluation.

    Extraction writes one row per file version in the transaction that stores its postings;
    evaluation reads every row of the tree, evaluates the union once, and deletes the rows it
    read in the transaction that writes the questions. A row is never lost: a crashed
    evaluation leaves it for the next one.
    """

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, related_name="changed_keys")
    keys = models.JSONField()
    seq = models.BigIntegerField(help_text="when the change was read (ns): the oldest row bounds the wait")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["tree", "id"])]


class KeyRead(models.Model):
    """Evaluating `key` last read `read`: a change under `read` re-evaluates `key`."""

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, db_constraint=False)
    key = models.CharField(max_length=512)
    read = models.CharField(max_length=512)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tree", "key", "read"], name="unique_key_read")]
        indexes = [models.Index(fields=["tree", "read"])]


SEVERITY_RANK = {"high": 3, "medium": 2, "low": 1}
# severity as a number for ordering (text order would put "high" before "low" before "medium")
SEVERITY_ORDER = models.Case(
    *(models.When(severity=name, then=models.Value(rank)) for name, rank in SEVERITY_RANK.items()),
    default=models.Value(0),
    output_field=models.IntegerField(),
)


class QuestionQuerySet(models.QuerySet):
    def open(self) -> QuestionQuerySet:
        return self.filter(status=Question.Status.OPEN)

    def count_by(self, *fields: str) -> list[tuple[tuple[str, ...], int]]:
        """Rows per combination of `fields`, largest first."""
        rows = self.values(*fields).annotate(n=Count("id")).order_by("-n", *fields)
        return [(tuple(row[f] for f in fields), row["n"]) for row in rows]

    def count_by_monitor_and_status(self) -> list[tuple[str, str, int]]:
        rows = self.values("monitor", "status").annotate(n=Count("id")).order_by("monitor", "status")
        return [(row["monitor"], row["status"], row["n"]) for row in rows]

    def active(self) -> QuestionQuerySet:
        """Open and not suppressed: what the lists and the dashboard count as open."""
        return self.filter(status=Question.Status.OPEN, suppressed=False)

    def unhandled(self) -> QuestionQuerySet:
        """Active and not acknowledged yet: what nobody has looked at."""
        return self.active().filter(acknowledged_at__isnull=True)

    # operator actions; kloros_site.analysis.actions adds who did it to the admin log

    def acknowledge(self, username: str) -> int:
        """Record who acknowledged; the first acknowledgement is kept."""
        return self.filter(acknowledged_at__isnull=True).update(
            acknowledged_at=timezone.now(), acknowledged_by=username
        )

    def suppress(self, reason: str) -> int:
        return self.update(suppressed=True, suppressed_reason=reason, suppressed_at=timezone.now())

    def unsuppress(self) -> int:
        return self.filter(suppressed=True).update(suppressed=False, suppressed_reason="", suppressed_at=None)


class Question(models.Model):
    class Status(models.TextChoices):
        OPEN = "open"
        RESOLVED = "resolved"

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, related_name="questions")
    qid = models.CharField("question id", max_length=64)
    key = models.CharField(max_length=512)
    monitor = models.CharField(max_length=32)
    hypothesis = models.CharField(max_length=64)
    question = models.TextField()
    evidence = models.JSONField(default=list)
    severity = models.CharField(max_length=8)
    capability_key = models.CharField(max_length=512, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True)
    # a suppressed question stays suppressed across rescans and restarts and is no longer published
    suppressed = models.BooleanField(default=False)
    suppressed_reason = models.TextField(blank=True)
    suppressed_at = models.DateTimeField(null=True, blank=True)

    objects = QuestionQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tree", "qid"], name="unique_question_per_tree")]
        indexes = [
            models.Index(fields=["tree", "key", "status"]),
            models.Index(fields=["status", "monitor", "hypothesis"]),
            # the question list's default page: open, not suppressed, most severe then newest
            models.Index(
                SEVERITY_ORDER.desc(),
                models.F("id").desc(),
                name="question_active_by_rank",
                condition=models.Q(status="open", suppressed=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hypothesis}: {self.question}"


class TransitionQuerySet(models.QuerySet):
    def unpublished(self) -> TransitionQuerySet:
        return self.filter(published_at__isnull=True)

    def count_by_kind(self) -> dict[str, int]:
        counts = dict.fromkeys(Transition.Kind.values, 0)
        for row in self.values("kind").annotate(n=Count("id")).order_by():
            counts[row["kind"]] = row["n"]
        return counts


class Transition(models.Model):
    """The outbox: one row per change of a question, published on ChemBus after commit."""

    class Kind(models.TextChoices):
        OPENED = "opened"
        CHANGED = "changed"
        RESOLVED = "resolved"

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="transitions")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    incident_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    signal = models.CharField(max_length=128)
    envelope = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    latency_ms = models.FloatField(null=True, help_text="from the file change being read to this transition")

    objects = TransitionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["published_at", "id"]), models.Index(fields=["created_at"])]
        ordering = ["id"]


class PendingFile(models.Model):
    """Work the watcher owes the workers, one row per path however many events it saw.

    Rows are fed to the broker only while its analysis queue is under its bound, and removed
    when a worker has stored a version at least as new: a lost task (a killed worker on a broker
    without acknowledgements) is sent again instead of forgotten.
    """

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, related_name="pending")
    path = models.CharField(max_length=1024)
    seq = models.BigIntegerField(help_text="newest change seen (ns)")
    created_at = models.DateTimeField(auto_now_add=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatched_seq = models.BigIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    # the worker process that started the sent task (kloros_site.analysis.pending.claim), empty
    # while the task waits in the queue: a claim whose process is gone is lost work
    claimed_by = models.CharField(max_length=255, blank=True, default="")
    claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tree", "path"], name="unique_pending_per_tree")]
        indexes = [models.Index(fields=["dispatched_at", "id"])]

    def __str__(self) -> str:
        return self.path


class WorkerBeat(models.Model):
    """A worker process's heartbeat: it is alive while `beat_at` is recent.

    Written every KLR_WORKER_BEAT_SECONDS by a thread of each process that claims work, so the
    feeder can tell a claim held by a live worker (however long its task) from one held by a
    worker that was killed, on any host.
    """

    name = models.CharField(max_length=255, unique=True, help_text="host/pid namespace/pid")
    beat_at = models.DateTimeField()
    # a pool process's worker (its main process), in the same form: a claim lost with both gone
    # was lost to a kill from outside, not to one of its files (pending.Feeder)
    parent = models.CharField(max_length=255, blank=True, default="")

    def __str__(self) -> str:
        return self.name


class DeadLetter(models.Model):
    """A task that kept failing; its message is kept whole so it can be retried from the admin."""

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, related_name="dead_letters")
    path = models.CharField(max_length=1024)
    message = models.JSONField()
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=0)
    failed_at = models.DateTimeField(auto_now_add=True)
    retried_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-failed_at"]

    def __str__(self) -> str:
        return self.path


class RuntimeEvent(models.Model):
    """What the pipeline measures about itself, for the runtime questions (analysis.runtime).

    Rows are pruned by the periodic check once older than the longest window that reads them.
    """

    class Kind(models.TextChoices):
        ANALYSIS = "analysis"  # a worker processed a version of `path`; detail: the outcome
        RECYCLE = "recycle"  # a pool process was replaced for memory after analyzing `path`
        BACKLOG = "backlog"  # the check's sample: the tree's pending rows and the queue's depth

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE, related_name="runtime_events")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    at = models.DateTimeField()
    path = models.CharField(max_length=1024, blank=True)
    # recycle: the process's RSS in KiB when it left; backlog: pending rows
    value = models.FloatField(null=True)
    # backlog: messages in the analysis queue (None: the broker did not answer)
    depth = models.IntegerField(null=True)
    detail = models.CharField(max_length=64, blank=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "at"]), models.Index(fields=["tree", "kind", "at"])]
