"""The channel pages: every channel of a tree with its producers and consumers, one channel's
page, and the picture of the wiring. Staff only, in the admin's look."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from kloros_site.analysis import channels, wiring
from kloros_site.analysis.models import Tree


def _tree(request: HttpRequest) -> tuple[Tree | None, list[Tree]]:
    trees = list(Tree.objects.order_by("path"))
    wanted = request.GET.get("tree", "")
    chosen = next((t for t in trees if str(t.pk) == wanted), None)
    return chosen or (trees[0] if trees else None), trees


def _context(request: HttpRequest, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def channel_url(tree: Tree, name: str) -> str:
    return reverse("channel", args=[tree.pk, name])


@require_GET
@staff_member_required
def channel_list(request: HttpRequest) -> HttpResponse:
    tree, trees = _tree(request)
    cmap = channels.channel_map(tree) if tree else channels.ChannelMap()
    query = request.GET.get("q", "")
    state = request.GET.get("state", "")
    found = cmap.search(query)
    counts = {"all": len(found), "orphaned": sum(c.orphaned for c in found)}
    if state == "orphaned":
        found = [c for c in found if c.orphaned]
    return TemplateResponse(
        request,
        "analysis/channels.html",
        _context(
            request,
            "Channels",
            tree=tree,
            trees=trees,
            channels=found,
            query=query,
            state=state,
            counts=counts,
            total=len(cmap.channels),
        ),
    )


@require_GET
@staff_member_required
def channel_detail(request: HttpRequest, tree_id: int, name: str) -> HttpResponse:
    tree = get_object_or_404(Tree, pk=tree_id)
    channel = channels.one_channel(tree, name)
    if channel is None:
        raise Http404(f"no channel {name!r} in {tree.path}")
    return TemplateResponse(
        request,
        "analysis/channel.html",
        _context(request, f"Channel {name}", tree=tree, channel=channel),
    )


def _map_svg(request: HttpRequest, tree: Tree) -> tuple[str, list, str]:
    cmap = channels.channel_map(tree, questions=False)
    package = request.GET.get("package", "").strip()
    tests = request.GET.get("tests") == "1"
    depth = request.GET.get("depth", "")
    chosen = wiring.select(cmap, package=package, tests=tests)
    source = wiring.to_dot(
        chosen,
        depth=int(depth) if depth.isdigit() else 0,
        tests=tests,
        channel_url=lambda name: channel_url(tree, name),
    )
    try:
        return wiring.render_svg(source) if chosen else "", chosen, ""
    except wiring.GraphvizMissing as exc:
        return "", chosen, str(exc)


@require_GET
@staff_member_required
def channel_map(request: HttpRequest) -> HttpResponse:
    tree, trees = _tree(request)
    svg, chosen, error = _map_svg(request, tree) if tree else ("", [], "")
    return TemplateResponse(
        request,
        "analysis/map.html",
        _context(
            request,
            "Channel map",
            tree=tree,
            trees=trees,
            svg=svg,
            channels=chosen,
            orphans=sum(c.orphaned for c in chosen),
            error=error,
            package=request.GET.get("package", ""),
            depth=request.GET.get("depth", ""),
            tests=request.GET.get("tests") == "1",
        ),
    )


@require_GET
@staff_member_required
def channel_map_svg(request: HttpRequest) -> HttpResponse:
    tree, _ = _tree(request)
    if tree is None:
        raise Http404("no tree")
    svg, _, error = _map_svg(request, tree)
    if error:
        return HttpResponse(error, status=503, content_type="text/plain")
    response = HttpResponse('<?xml version="1.0" encoding="UTF-8"?>\n' + svg, content_type="image/svg+xml")
    response["Content-Disposition"] = 'inline; filename="channel-map.svg"'
    return response
