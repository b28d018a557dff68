"""The question and file pages: work pages inside the admin (its login, header and log).

QuestionAdmin and SourceFileAdmin route their change views here. Each page runs a fixed
number of queries however many questions the database holds (tests/kloros_site/analysis/
test_pages.py counts them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from kloros_site.analysis import actions, explain, guides, highlight, source
from kloros_site.analysis.evidence import Location, locations, open_questions_by_file
from kloros_site.analysis.models import Question, SourceFile

SNIPPET_FILES = 12  # files shown with source on a question page; the rest are listed
TIMELINE = 100  # newest transitions shown


@dataclass
class Snippet:
    path: str
    file: SourceFile | None
    marked: list[Location]
    windows: list[list[highlight.Line]] = field(default_factory=list)
    missing: str = ""  # why no source is shown


@dataclass
class Event:
    when: datetime
    what: str
    who: str = ""
    detail: str = ""


def state_of(question: Question) -> str:
    if question.status == Question.Status.RESOLVED:
        return "resolved"
    if question.suppressed:
        return "suppressed"
    return "acknowledged" if question.acknowledged_at else "open"


def file_url(file: SourceFile, line: int = 0) -> str:
    url = reverse("admin:analysis_sourcefile_change", args=[file.pk])
    return f"{url}#L{line}" if line else url


def _source_lines(file: SourceFile) -> list[str] | None:
    text = source.unpack(file.source)
    return None if text is None else highlight.html_lines(file.path, text, file.sha256)


def snippets(question: Question) -> tuple[list[Snippet], int]:
    """Highlighted lines around each evidence line, per file; and how many files were left out."""
    by_path: dict[str, list[Location]] = {}
    for loc in locations(question.evidence):
        by_path.setdefault(loc.path, []).append(loc)
    shown = sorted(by_path)[:SNIPPET_FILES]
    files = {
        f.path: f for f in SourceFile.objects.filter(tree_id=question.tree_id, path__in=shown).defer(None)
    }
    result = []
    for path in shown:
        snippet = Snippet(path, files.get(path), by_path[path])
        lines = _source_lines(snippet.file) if snippet.file else None
        if snippet.file is None:
            snippet.missing = "This file is not in the analysis cache (deleted or never analyzed)."
        elif lines is None:
            snippet.missing = "No source stored for this file yet: re-analyze it to store it."
        else:
            snippet.windows = highlight.windows(lines, {loc.line for loc in snippet.marked})
        result.append(snippet)
    return result, max(0, len(by_path) - len(shown))


def timeline(question: Question) -> list[Event]:
    """Opened, changed, resolved (by the analysis) and the operators' actions, oldest first."""
    events = []
    transitions = question.transitions.order_by("-id").values("kind", "created_at", "envelope")[:TIMELINE]
    for row in transitions:
        evidence = (row["envelope"].get("facts") or {}).get("evidence") or []
        detail = f"{len(evidence)} location(s)" if row["kind"] != "resolved" and evidence else ""
        events.append(Event(row["created_at"], row["kind"], "analysis", detail))
    if not any(e.what == "opened" for e in events):
        events.append(Event(question.opened_at, "opened", "analysis"))
    content_type = ContentType.objects.get_for_model(Question)
    entries = LogEntry.objects.filter(content_type=content_type, object_id=str(question.pk)).select_related(
        "user"
    )
    for entry in entries.order_by("-id")[:TIMELINE]:
        message = entry.get_change_message()
        what, _, detail = message.partition(": ")
        events.append(Event(entry.action_time, what.lower(), entry.user.get_username(), detail))
    return sorted(events, key=lambda e: e.when)


class SuppressReason(forms.Form):
    reason = forms.CharField(max_length=2000, strip=True)


def question_page(request: HttpRequest, model_admin, object_id: str) -> HttpResponse:
    question = get_object_or_404(Question.objects.select_related("tree"), pk=object_id)
    if not model_admin.has_view_or_change_permission(request, question):
        raise PermissionDenied
    if request.method == "POST":
        return question_action(request, model_admin, question)
    found, more = snippets(question)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": f"{question.hypothesis}: {question.question}",
        "question": question,
        "state": state_of(question),
        "snippets": found,
        "more_files": more,
        "locations": [
            (loc, highlight.source_url(question.tree.path, loc.path, loc.line))
            for loc in locations(question.evidence)
        ],
        "facts": explain.facts(question),
        "guide": guides.guide(question.hypothesis),
        "timeline": timeline(question),
        "can_change": model_admin.has_change_permission(request),
        "history_url": reverse("admin:analysis_question_history", args=[question.pk]),
    }
    return TemplateResponse(request, "analysis/question.html", context)


def question_action(request: HttpRequest, model_admin, question: Question) -> HttpResponse:
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    chosen = Question.objects.filter(pk=question.pk)
    action = request.POST.get("action")
    if action == "acknowledge":
        actions.acknowledge(chosen, request.user)
        messages.success(request, "Acknowledged.")
    elif action == "suppress":
        form = SuppressReason(request.POST)
        if not form.is_valid():
            messages.error(request, "Say why the question is suppressed: the reason is kept with it.")
        else:
            actions.suppress(chosen, form.cleaned_data["reason"], request.user)
            messages.success(
                request, "Suppressed: no longer published on the bus, listed only under 'suppressed'."
            )
    elif action == "unsuppress":
        actions.unsuppress(chosen, request.user)
        messages.success(request, "Unsuppressed.")
    elif action == "reanalyze":
        count = actions.reanalyze_questions(chosen, request.user)
        messages.success(request, f"Sent {count} file(s) for analysis.")
    else:
        raise Http404("no such action")
    return HttpResponseRedirect(request.path)


def file_page(request: HttpRequest, model_admin, object_id: str) -> HttpResponse:
    file = get_object_or_404(SourceFile.objects.select_related("tree").defer(None), pk=object_id)
    if not model_admin.has_view_or_change_permission(request, file):
        raise PermissionDenied
    if request.method == "POST":
        if request.POST.get("action") != "reanalyze" or not model_admin.has_change_permission(request):
            raise PermissionDenied
        count = actions.reanalyze_files(SourceFile.objects.filter(pk=file.pk), request.user)
        messages.success(request, f"Sent {count} file(s) for analysis.")
        return HttpResponseRedirect(request.path)
    questions = open_questions_by_file([file], suppressed=True)[file.pk]
    active = [q for q in questions if not q.suppressed]
    html = _source_lines(file)
    lines = [highlight.Line(n, text) for n, text in enumerate(html or [], start=1)]
    unplaced = []
    for question in active:
        question.page_state = state_of(question)  # type: ignore[attr-defined]  # for the template
        placed = False
        for loc in locations(question.evidence):
            if loc.path == file.path and 1 <= loc.line <= len(lines):
                lines[loc.line - 1].marked = True
                if question not in lines[loc.line - 1].notes:
                    lines[loc.line - 1].notes.append(question)
                placed = True
        if not placed:
            unplaced.append(question)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": file.path,
        "file": file,
        "questions": active,
        "suppressed": len(questions) - len(active),
        "unplaced": unplaced,
        "source_rows": source_rows(lines),
        "has_source": html is not None,
        "source_url": highlight.source_url(file.tree.path, file.path),
        "can_change": model_admin.has_change_permission(request),
        "questions_url": reverse("admin:analysis_question_changelist"),
    }
    return TemplateResponse(request, "analysis/file.html", context)


def source_rows(lines: list[highlight.Line]) -> SafeString:
    """The file's lines as table rows, each question under its line; built here rather than in a
    template loop, which costs about a millisecond per hundred lines."""
    question_url = reverse("admin:analysis_question_change", args=[0]).replace("/0/", "/{}/")
    rows = []
    for line in lines:
        n = line.number
        rows.append(
            f'<tr id="L{n}" class="{"mark" if line.marked else ""}"><td class="n"><a href="#L{n}">{n}</a></td>'
            f"<td>{line.html}</td></tr>"
        )
        if line.notes:
            notes = "".join(
                format_html(
                    '<div class="klr-note klr-sev-{0}" data-question="{1}"><span class="klr-badge klr-{0}">{0}</span> '
                    '<span class="klr-state klr-{2}">{2}</span> <a href="{3}">{4}</a> <span class="klr-more">{5}</span></div>',
                    q.severity,
                    q.pk,
                    q.page_state,
                    question_url.format(q.pk),
                    q.question,
                    q.hypothesis,
                )
                for q in line.notes
            )
            rows.append(f'<tr class="note"><td class="n"></td><td>{notes}</td></tr>')
    # line.html is escaped by highlight.html_lines; the notes by format_html
    return mark_safe("\n".join(rows))


def file_by_path(request: HttpRequest, tree_id: int) -> HttpResponse:
    """/admin/analysis/sourcefile/open/<tree>/?path=...&line=N: the file page at that line."""
    file = get_object_or_404(SourceFile.objects.only("pk"), tree_id=tree_id, path=request.GET.get("path", ""))
    line = request.GET.get("line", "")
    return HttpResponseRedirect(file_url(file, int(line) if line.isdigit() else 0))
