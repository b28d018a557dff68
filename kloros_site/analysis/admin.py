"""The admin: lists over the analyzer's tables, read-only except for operator actions.

The stores are written by workers; editing a row by hand would desynchronize questions from
postings, so every model is read-only here and changes go through kloros_site.analysis.actions
(which writes who did what to the admin log). A question's and a file's own pages are work
pages (kloros_site.analysis.pages): source, reasons, guidance, timeline and buttons.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ChangeList
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from kloros_site.analysis import actions, pages
from kloros_site.analysis.admin_filters import (
    FACET_FILTERS,
    DispatchedFilter,
    FileFilter,
    PublishedFilter,
    facet_count,
    facet_rows,
)
from kloros_site.analysis.evidence import locations, open_questions_by_file
from kloros_site.analysis.models import (
    SEVERITY_ORDER,
    DeadLetter,
    PendingFile,
    Question,
    SourceFile,
    Transition,
    Tree,
)


def milliseconds(value: float | None) -> str:
    """2.7768879999712226 -> "2.8 ms"; 1234.5 -> "1.23 s"."""
    if value is None:
        return "-"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def when(value) -> str:
    return format_html('<span title="{}">{}</span>', value, naturaltime(value)) if value else "-"


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False
    # Django's facet counts are a query per filter over the whole table: too slow at 100,000
    # rows; the question list counts its own in one query (admin_filters)
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 100

    class Media:
        css = {"all": ["analysis/kloros.css"]}

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


class SuppressForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="Why these questions should no longer be published; kept on each question.",
    )


@admin.register(Question)
class QuestionAdmin(ReadOnlyAdmin):
    list_display = ["severity_badge", "state", "hypothesis", "question", "where", "opened"]
    list_display_links = ["question"]
    list_select_related = ["tree"]
    list_filter = [*FACET_FILTERS, "tree", FileFilter]
    # evidence is searched as JSON text: a path or "path:line" finds the questions citing it
    search_fields = ["question", "evidence", "qid", "capability_key"]
    search_help_text = "Question text, evidence (path or path:line), question id or capability."
    actions = ["acknowledge", "suppress", "unsuppress", "reanalyze"]

    def get_ordering(self, request: HttpRequest):
        # most severe first, then newest (-id follows the primary key index)
        return [SEVERITY_ORDER.desc(), "-id"]

    def changelist_view(self, request: HttpRequest, extra_context=None):
        facet_rows(request, self)  # the filters' counts: one query, shared by every filter
        return super().changelist_view(request, {"title": "Questions", **(extra_context or {})})

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        return pages.question_page(request, self, object_id)

    def get_paginator(self, request: HttpRequest, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)
        if request.method == "GET":
            # the facet counts already say how many rows pass the filters: no second full scan
            paginator.count = facet_count(request, self)
        return paginator

    @admin.display(description="severity", ordering=SEVERITY_ORDER)
    def severity_badge(self, obj: Question):
        return format_html('<span class="klr-badge klr-{}">{}</span>', obj.severity, obj.severity)

    @admin.display(description="state")
    def state(self, obj: Question):
        state = pages.state_of(obj)
        return format_html('<span class="klr-state klr-{}">{}</span>', state, state)

    @admin.display(description="where")
    def where(self, obj: Question):
        found = locations(obj.evidence)
        if not found:
            return "-"
        first = found[0]
        url = (
            reverse("admin:analysis_sourcefile_open", args=[obj.tree_id])
            + "?"
            + urlencode({"path": first.path, "line": str(first.line)})
        )
        link = format_html('<a class="klr-loc" href="{}">{}</a>', url, str(first))
        if len(found) == 1:
            return link
        files = len({loc.path for loc in found})
        more = f"{len(found)} locations" + (f" in {files} files" if files > 1 else "")
        return format_html('{}<br><span class="klr-more">{}</span>', link, more)

    @admin.display(description="opened", ordering="id")
    def opened(self, obj: Question):
        return when(obj.opened_at)

    @admin.action(description="Acknowledge selected questions", permissions=["change"])
    def acknowledge(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = actions.acknowledge(queryset, request.user)
        self.message_user(request, f"Acknowledged {count} question(s).", messages.SUCCESS)

    @admin.action(description="Suppress selected questions (asks for a reason)", permissions=["change"])
    def suppress(self, request: HttpRequest, queryset: QuerySet):
        form = SuppressForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            count = actions.suppress(queryset, form.cleaned_data["reason"], request.user)
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
        count = actions.unsuppress(queryset, request.user)
        self.message_user(request, f"Unsuppressed {count} question(s).", messages.SUCCESS)

    @admin.action(description="Re-analyze the files in the evidence", permissions=["change"])
    def reanalyze(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = actions.reanalyze_questions(queryset, request.user)
        self.message_user(request, f"Sent {count} file(s) for analysis.", messages.SUCCESS)


class FileChangeList(ChangeList):
    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # open questions per file of this page: one query, an indexed join from the page's postings
        counts = open_questions_by_file(list(self.result_list))
        for file in self.result_list:
            file.open_count = len(counts[file.pk])


@admin.register(SourceFile)
class SourceFileAdmin(ReadOnlyAdmin):
    list_display = ["path", "state", "questions", "size_h", "analyzed", "duration", "latency"]
    list_select_related = ["tree"]
    list_filter = ["status", "reason", "tree"]
    search_fields = ["path", "=sha256"]
    # the (tree, path) unique constraint's index serves this order
    ordering = ["tree", "path"]
    actions = ["reanalyze"]

    def get_changelist(self, request: HttpRequest, **kwargs):
        return FileChangeList

    def changelist_view(self, request: HttpRequest, extra_context=None):
        return super().changelist_view(request, {"title": "Files", **(extra_context or {})})

    def get_urls(self):
        view = self.admin_site.admin_view(pages.file_by_path)
        return [path("open/<int:tree_id>/", view, name="analysis_sourcefile_open"), *super().get_urls()]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        return pages.file_page(request, self, object_id)

    @admin.display(description="status", ordering="status")
    def state(self, obj: SourceFile):
        if obj.status == SourceFile.Status.FAILED:
            return format_html(
                '<span class="klr-state klr-failed" title="{}">failed: {}</span>', obj.detail, obj.reason
            )
        return format_html('<span title="sha256 {}">{}</span>', obj.sha256[:12], obj.status)

    @admin.display(description="open questions")
    def questions(self, obj: SourceFile):
        count = getattr(obj, "open_count", 0)
        if not count:
            return "0"
        url = (
            reverse("admin:analysis_question_changelist")
            + "?"
            + urlencode({"file": obj.path, "tree__id__exact": str(obj.tree_id)})
        )
        return format_html('<a href="{}"><strong>{}</strong></a>', url, count)

    @admin.display(description="size", ordering="size")
    def size_h(self, obj: SourceFile) -> str:
        return filesizeformat(obj.size)

    @admin.display(description="analyzed", ordering="analyzed_at")
    def analyzed(self, obj: SourceFile):
        return when(obj.analyzed_at)

    @admin.display(description="analysis", ordering="duration_ms")
    def duration(self, obj: SourceFile) -> str:
        return milliseconds(obj.duration_ms)

    @admin.display(description="latency", ordering="latency_ms")
    def latency(self, obj: SourceFile) -> str:
        return milliseconds(obj.latency_ms)

    @admin.action(description="Re-analyze selected files", permissions=["change"])
    def reanalyze(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = actions.reanalyze_files(queryset, request.user)
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
        count = actions.retry_dead_letters(queryset, request.user)
        self.message_user(request, f"Sent {count} task(s) again.", messages.SUCCESS)


@admin.register(PendingFile)
class PendingFileAdmin(ReadOnlyAdmin):
    list_display = ["path", "tree", "created_at", "dispatched_at", "attempts"]
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

    @admin.display(description="latency", ordering="latency_ms")
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
        channels = reverse("channels") + f"?tree={obj.pk}"
        return format_html(
            '<a href="{}">questions</a> · <a href="{}">files</a> · <a href="{}">channels</a>',
            questions,
            files,
            channels,
        )
