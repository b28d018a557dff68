"""The question list's filters: defaults for a day's work (open, not suppressed), severity in rank
order, and a count beside every choice.

The counts come from one GROUP BY over the questions the list's other parameters select (tree,
file, search): each filter then sums the groups that pass every other filter, so a count says
how many rows clicking it would list.
"""

from __future__ import annotations

import hashlib

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.core.cache import cache
from django.db.models import Case, Count, QuerySet, Value, When
from django.http import HttpRequest

from kloros_site.analysis.evidence import evidence_mentions
from kloros_site.analysis.models import Question, Transition

ALL = "all"
FACET_CACHE_SECONDS = 300
FACETS = ("status", "suppressed", "severity", "monitor", "hypothesis", "acknowledged")


def facet_rows(request: HttpRequest, model_admin) -> list[dict]:
    """The grouped counts, computed once per request and cached until questions change: a new
    question, transition (the analysis) or admin log entry (an operator) starts a new cache key,
    so clicking through filters does not group the whole table again."""
    cached = getattr(request, "_kloros_facets", None)
    if cached is not None:
        return cached
    tree = request.GET.get("tree__id__exact", "")
    path, search = request.GET.get("file", ""), request.GET.get("q", "")
    last_change = (
        Transition.objects.order_by("-id").values_list("id", flat=True).first(),
        LogEntry.objects.order_by("-id").values_list("id", flat=True).first(),
        Question.objects.order_by("-id").values_list("id", flat=True).first(),
    )
    digest = hashlib.sha256(repr((last_change, tree, path, search)).encode()).hexdigest()
    key = f"kloros:facets:{digest}"
    rows = cache.get(key)
    if rows is None:
        rows = _group(request, model_admin, tree, path, search)
        cache.set(key, rows, FACET_CACHE_SECONDS)
    request._kloros_facets = rows  # type: ignore[attr-defined]  # for the page's other filters
    return rows


def _group(request: HttpRequest, model_admin, tree: str, path: str, search: str) -> list[dict]:
    rows = Question.objects.all()
    if tree.isdigit():
        rows = rows.filter(tree_id=int(tree))
    if path:
        rows = rows.filter(evidence_mentions(path))
    if search:
        rows, _ = model_admin.get_search_results(request, rows, search)
    acknowledged = Case(When(acknowledged_at__isnull=True, then=Value("no")), default=Value("yes"))
    grouped = (
        rows.annotate(acknowledged=acknowledged)
        .values("status", "suppressed", "severity", "monitor", "hypothesis", "acknowledged")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [dict(row) for row in grouped]


def facet_count(request: HttpRequest, model_admin) -> int:
    """How many rows the list shows: the groups every facet filter keeps (saves a COUNT)."""
    return sum(
        row["n"]
        for row in facet_rows(request, model_admin)
        if all(f.keeps(request, row) for f in FACET_FILTERS)
    )


class FacetFilter(admin.SimpleListFilter):
    """A filter on one facet column; `default` applies when the URL does not name the filter."""

    facet = ""
    default: str | None = None
    ordered: list[tuple[str, str]] | None = None  # fixed choices, in this order

    def __init__(self, request, params, model, model_admin) -> None:
        self._request = request
        self._model_admin = model_admin
        super().__init__(request, params, model, model_admin)

    def value(self) -> str | None:
        value = super().value()
        return self.selected(self._request) if value is None else value

    @classmethod
    def selected(cls, request: HttpRequest) -> str | None:
        name = str(cls.parameter_name)
        if name in request.GET:
            return request.GET[name]
        # an action on rows ticked one by one applies to those rows, whatever the defaults hide;
        # "select all" applies to what the list showed, defaults included
        explicit = (
            request.method == "POST" and "action" in request.POST and request.POST.get("select_across") != "1"
        )
        return None if explicit else cls.default

    @classmethod
    def row_value(cls, row: dict) -> str:
        return str(row[cls.facet])

    @classmethod
    def keeps(cls, request: HttpRequest, row: dict) -> bool:
        value = cls.selected(request)
        return value in (None, ALL) or cls.row_value(row) == value

    def counts(self) -> dict[str, int]:
        others = [f for f in FACET_FILTERS if f.facet != self.facet]
        counts: dict[str, int] = {}
        for row in facet_rows(self._request, self._model_admin):
            if all(f.keeps(self._request, row) for f in others):
                counts[self.row_value(row)] = counts.get(self.row_value(row), 0) + row["n"]
        return counts

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        counts = self.counts()
        choices = self.ordered or [(v, v) for v in sorted(counts)]
        found = [(value, f"{label} ({counts.get(value, 0)})") for value, label in choices]
        return [*found, (ALL, f"all ({sum(counts.values())})")] if self.default is not None else found

    def choices(self, changelist):
        if self.default is None:
            yield {
                "selected": self.value() is None,
                "query_string": changelist.get_query_string(remove=[self.parameter_name]),
                "display": "All",
            }
        for value, label in self.lookup_choices:
            yield {
                "selected": self.value() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value in (None, ALL):
            return queryset
        return self.filter(queryset, value)

    def filter(self, queryset: QuerySet, value: str) -> QuerySet:
        return queryset.filter(**{self.facet: value})


class StatusFilter(FacetFilter):
    title = "status"
    parameter_name = "status__exact"
    facet = "status"
    default = "open"
    ordered = [("open", "open"), ("resolved", "resolved")]


class SuppressedFilter(FacetFilter):
    title = "suppressed"
    parameter_name = "suppressed__exact"
    facet = "suppressed"
    default = "0"
    ordered = [("0", "not suppressed"), ("1", "suppressed")]

    @classmethod
    def row_value(cls, row: dict) -> str:
        return "1" if row["suppressed"] else "0"

    def filter(self, queryset: QuerySet, value: str) -> QuerySet:
        return queryset.filter(suppressed=value == "1")


class SeverityFilter(FacetFilter):
    title = "severity"
    parameter_name = "severity"
    facet = "severity"
    ordered = [("high", "high"), ("medium", "medium"), ("low", "low")]


class MonitorFilter(FacetFilter):
    title = "monitor"
    parameter_name = "monitor"
    facet = "monitor"


class HypothesisFilter(FacetFilter):
    title = "hypothesis"
    parameter_name = "hypothesis"
    facet = "hypothesis"


class AcknowledgedFilter(FacetFilter):
    title = "acknowledged"
    parameter_name = "acknowledged"
    facet = "acknowledged"
    ordered = [("no", "No"), ("yes", "Yes")]

    def filter(self, queryset: QuerySet, value: str) -> QuerySet:
        return queryset.filter(acknowledged_at__isnull=value == "no")


FACET_FILTERS = [
    StatusFilter,
    SuppressedFilter,
    SeverityFilter,
    MonitorFilter,
    HypothesisFilter,
    AcknowledgedFilter,
]


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
        # the exact text match, not the postings join: the list is asked about a path, which
        # may be a file the analysis no longer holds
        value = self.value()
        return queryset.filter(evidence_mentions(value)) if value else queryset


class YesNoFilter(admin.SimpleListFilter):
    """yes/no on whether a date column is set (published, sent to the broker)."""

    column = ""

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() in ("yes", "no"):
            return queryset.filter(**{f"{self.column}__isnull": self.value() == "no"})
        return queryset


class PublishedFilter(YesNoFilter):
    title = "published"
    parameter_name = "published"
    column = "published_at"


class DispatchedFilter(YesNoFilter):
    title = "sent to the broker"
    parameter_name = "dispatched"
    column = "dispatched_at"
