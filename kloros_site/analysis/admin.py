"""The admin: declarative lists over the analyzer's tables, read-only except for operator actions.

The stores are written by workers; editing a row by hand would desynchronize questions from
postings, so every model is read-only here and changes go through actions that call plain
functions in kloros_site.dashboard.operations.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from kloros_site.analysis.models import DeadLetter, PendingFile, Question, SourceFile, Transition, Tree
from kloros_site.dashboard import operations


def milliseconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False
    # facet counts are a GROUP BY per filter over the whole table: too slow at 100,000 rows
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # the list keeps its actions (they check "change" without an object); a row's own
        # page becomes a view page without Save buttons
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [f.name for f in self.model._meta.fields] + list(self.readonly_fields)


class FileFilter(admin.SimpleListFilter):
    """Questions citing one file; reached from a file's page or by editing the URL (?file=path).

    Listing every file as a choice would mean 100,000 links, so the only choice shown is the
    file already selected.
    """

    title = "file"
    parameter_name = "file"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        value = self.value()
        return [(value, value)] if value else []

    def has_output(self) -> bool:
        return bool(self.value())

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        return queryset.filter(operations.evidence_mentions(value)) if value else queryset


class AcknowledgedFilter(admin.SimpleListFilter):
    title = "acknowledged"
    parameter_name = "acknowledged"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(acknowledged_at__isnull=self.value() == "no")
        return queryset


class PublishedFilter(AcknowledgedFilter):
    title = "published"
    parameter_name = "published"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(published_at__isnull=self.value() == "no")
        return queryset


class DispatchedFilter(AcknowledgedFilter):
    title = "sent to the broker"
    parameter_name = "dispatched"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(dispatched_at__isnull=self.value() == "no")
        return queryset


class SuppressForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="Why these questions should no longer be published; kept on each question.",
    )


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdmin):
    list_display = [
        "hypothesis",
        "question",
        "severity",
        "status",
        "monitor",
        "evidence_lines",
        "opened_at",
        "acknowledged_at",
        "suppressed",
        "tree",
    ]
    list_display_links = ["hypothesis", "question"]
    list_select_related = ["tree"]
    list_filter = [
        "status",
        "monitor",
        "hypothesis",
        "severity",
        AcknowledgedFilter,
        "suppressed",
        "tree",
        FileFilter,
    ]
    # evidence is searched as JSON text: a path or "path:line" finds the questions citing it
    search_fields = ["question", "evidence", "qid", "capability_key"]
    search_help_text = "Question text, evidence (path or path:line), question id or capability."
    # -id follows the primary key index; opened_at has none and would sort every row
    ordering = ["-id"]
    readonly_fields = ["evidence_lines"]
    fieldsets = [
        (
            None,
            {"fields": ["hypothesis", "question", "evidence_lines", "severity", "status", "monitor", "tree"]},
        ),
        (
            "Operator",
            {
                "fields": [
                    "acknowledged_at",
                    "acknowledged_by",
                    "suppressed",
                    "suppressed_reason",
                    "suppressed_at",
                ]
            },
        ),
        ("Lifecycle", {"fields": ["opened_at", "updated_at", "resolved_at"]}),
        ("Identity", {"fields": ["qid", "key", "capability_key"], "classes": ["collapse"]}),
    ]
    actions = ["acknowledge", "suppress", "unsuppress", "reanalyze"]

    @admin.display(description="evidence")
    def evidence_lines(self, obj: Question):
        return format_html_join(
            mark_safe("<br>"), "<code>{}</code>", ((item,) for item in (obj.evidence or []))
        )

    @admin.action(description="Acknowledge selected questions", permissions=["change"])
    def acknowledge(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = operations.acknowledge(queryset, request.user.get_username())
        self.message_user(request, f"Acknowledged {count} question(s).", messages.SUCCESS)

    @admin.action(description="Suppress selected questions (asks for a reason)", permissions=["change"])
    def suppress(self, request: HttpRequest, queryset: QuerySet):
        form = SuppressForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            count = operations.suppress(queryset, form.cleaned_data["reason"])
            self.message_user(request, f"Suppressed {count} question(s).", messages.SUCCESS)
            return None
        return TemplateResponse(
            request,
            "admin/analysis/question/suppress.html",
            {
                **self.admin_site.each_context(request),
                "title": "Suppress questions",
                "opts": self.model._meta,
                "form": form,
                "questions": queryset.select_related("tree")[:100],
                "count": queryset.count(),
                "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Unsuppress selected questions", permissions=["change"])
    def unsuppress(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = operations.unsuppress(queryset)
        self.message_user(request, f"Unsuppressed {count} question(s).", messages.SUCCESS)

    @admin.action(description="Re-analyze the files in the evidence", permissions=["change"])
    def reanalyze(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = operations.reanalyze_questions(queryset)
        self.message_user(request, f"Sent {count} file(s) for analysis.", messages.SUCCESS)


@admin.register(SourceFile)
class SourceFileAdmin(ReadOnlyAdmin):
    list_display = [
        "path",
        "status",
        "reason",
        "size",
        "short_hash",
        "analyzed_at",
        "duration",
        "latency",
        "tree",
    ]
    list_select_related = ["tree"]
    list_filter = ["status", "reason", "tree"]
    search_fields = ["path", "=sha256"]
    # the (tree, path) unique constraint's index serves this order
    ordering = ["tree", "path"]
    # counting open questions means scanning evidence text: affordable for one file, not a page
    readonly_fields = ["open_questions"]
    fieldsets = [
        (None, {"fields": ["path", "tree", "status", "reason", "detail", "open_questions"]}),
        ("Content", {"fields": ["sha256", "size", "seq"]}),
        ("Timing", {"fields": ["analyzed_at", "duration_ms", "latency_ms"]}),
    ]
    actions = ["reanalyze"]

    @admin.display(description="hash")
    def short_hash(self, obj: SourceFile) -> str:
        return obj.sha256[:12]

    @admin.display(description="analysis ms", ordering="duration_ms")
    def duration(self, obj: SourceFile) -> str:
        return milliseconds(obj.duration_ms)

    @admin.display(description="latency ms", ordering="latency_ms")
    def latency(self, obj: SourceFile) -> str:
        return milliseconds(obj.latency_ms)

    @admin.display(description="open questions citing this file")
    def open_questions(self, obj: SourceFile):
        count = operations.open_questions_for(obj).count()
        url = (
            reverse("admin:analysis_question_changelist")
            + "?"
            + urlencode({"file": obj.path, "tree__id__exact": str(obj.tree_id), "status__exact": "open"})
        )
        return format_html('<a href="{}">{}</a>', url, count)

    @admin.action(description="Re-analyze selected files", permissions=["change"])
    def reanalyze(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = operations.reanalyze_files(queryset)
        self.message_user(request, f"Sent {count} file(s) for analysis.", messages.SUCCESS)


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = ["path", "tree", "short_error", "attempts", "failed_at", "retried_at"]
    list_select_related = ["tree"]
    list_filter = ["tree", ("retried_at", admin.EmptyFieldListFilter)]
    search_fields = ["path", "error"]
    actions = ["retry"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # clearing handled failures is the operator's call; nothing else refers to these rows
        return super(ReadOnlyAdmin, self).has_delete_permission(request, obj)

    @admin.display(description="error")
    def short_error(self, obj: DeadLetter) -> str:
        line = obj.error.strip().splitlines()[-1] if obj.error.strip() else ""
        return line[:160]

    @admin.action(description="Retry selected tasks", permissions=["change"])
    def retry(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = operations.retry_dead_letters(queryset)
        self.message_user(request, f"Sent {count} task(s) again.", messages.SUCCESS)


@admin.register(PendingFile)
class PendingFileAdmin(ReadOnlyAdmin):
    list_display = ["path", "tree", "seq", "created_at", "dispatched_at", "dispatched_seq", "attempts"]
    list_select_related = ["tree"]
    list_filter = [DispatchedFilter, "tree"]
    search_fields = ["path"]
    ordering = ["id"]


@admin.register(Transition)
class TransitionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "signal",
        "question",
        "created_at",
        "published_at",
        "attempts",
        "latency",
        "last_error",
    ]
    list_select_related = ["question"]
    list_filter = [PublishedFilter, "kind", "signal"]
    search_fields = ["=incident_id", "question__qid"]
    ordering = ["-id"]

    @admin.display(description="latency ms", ordering="latency_ms")
    def latency(self, obj: Transition) -> str:
        return milliseconds(obj.latency_ms)


@admin.register(Tree)
class TreeAdmin(ReadOnlyAdmin):
    list_display = ["path", "created_at", "links"]
    search_fields = ["path"]

    @admin.display(description="")
    def links(self, obj: Tree):
        questions = reverse("admin:analysis_question_changelist") + f"?tree__id__exact={obj.pk}"
        files = reverse("admin:analysis_sourcefile_changelist") + f"?tree__id__exact={obj.pk}"
        return format_html('<a href="{}">questions</a> · <a href="{}">files</a>', questions, files)
