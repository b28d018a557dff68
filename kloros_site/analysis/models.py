"""What the analyzer knows: files of watched trees, their postings, questions and bus transitions.

The models know nothing of Celery or the bus; the logic that spans rows sits on managers
and in kloros_site.analysis.store / services.
"""

from __future__ import annotations

import uuid

from django.db import models


class Tree(models.Model):
    """A watched root. Questions are about one tree: cross-file means within it."""

    path = models.CharField(max_length=1024, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.path


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
    # version of what was analyzed: when the content was read (ns); older tasks are no-ops
    seq = models.BigIntegerField(default=0)
    analyzed_at = models.DateTimeField(null=True)
    duration_ms = models.FloatField(null=True)
    reason = models.CharField(max_length=32, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tree", "path"], name="unique_file_per_tree")]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.path


class Posting(models.Model):
    """One file's payload under one index key (see monitors.engine)."""

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE)
    file = models.ForeignKey(SourceFile, on_delete=models.CASCADE, related_name="postings")
    key = models.CharField(max_length=512)
    payload = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["file", "key"], name="unique_posting")]
        indexes = [models.Index(fields=["tree", "key"])]


class KeyRead(models.Model):
    """Evaluating `key` last read `read`: a change under `read` re-evaluates `key`."""

    tree = models.ForeignKey(Tree, on_delete=models.CASCADE)
    key = models.CharField(max_length=512)
    read = models.CharField(max_length=512)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tree", "key", "read"], name="unique_key_read")]
        indexes = [models.Index(fields=["tree", "read"])]


class QuestionQuerySet(models.QuerySet):
    def open(self) -> QuestionQuerySet:
        return self.filter(status=Question.Status.OPEN)


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

    objects = QuestionQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tree", "qid"], name="unique_question_per_tree")]
        indexes = [
            models.Index(fields=["tree", "key", "status"]),
            models.Index(fields=["status", "monitor", "hypothesis"]),
        ]

    def __str__(self) -> str:
        return f"{self.hypothesis}: {self.question}"


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

    class Meta:
        indexes = [models.Index(fields=["published_at", "id"])]
        ordering = ["id"]
