"""`manage.py channelmap PATH -o map.svg`: the wiring picture of a tree, from a batch scan (no
database, no workers): the same graph the /map/ page draws."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from kloros_site.analysis import channels, wiring
from monitors.scan import scan_tree


class Command(BaseCommand):
    help = "Draw the channel map (modules, channels, orphans) of a source tree with Graphviz."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "-o", "--output", type=Path, required=True, help="file to write (.svg, .png or .pdf)"
        )
        parser.add_argument("--package", default="", help="only channels touching this dotted package")
        parser.add_argument("--depth", type=int, default=0, help="group modules by their first N name parts")
        parser.add_argument("--tests", action="store_true", help="draw channels only tests use, too")
        parser.add_argument("--dot", action="store_true", help="write the Graphviz source instead")

    def handle(
        self, *args, path: Path, output: Path, package: str, depth: int, tests: bool, dot: bool, **options
    ):
        if not path.is_dir():
            raise CommandError(f"{path} is not a directory")
        store, _ = scan_tree(path)
        cmap = channels.from_postings(store.index)
        chosen = wiring.select(cmap, package=package, tests=tests)
        source = wiring.to_dot(chosen, depth=depth, tests=tests)
        if dot:
            output.write_text(source)
        else:
            fmt = output.suffix.lstrip(".") or "svg"
            try:
                output.write_bytes(wiring.render(source, fmt))
            except wiring.GraphvizMissing as exc:
                raise CommandError(str(exc)) from exc
        orphans = sum(c.orphaned for c in chosen)
        self.stdout.write(
            f"{output}: {len(chosen)} channels ({orphans} orphaned) of {len(cmap.channels)} in {path}"
        )
