"""The per-file walk's work, counted (never timed): what depends only on a node's class is
looked up once per class, so a file's lookups do not grow with its length; and the TODO scan
that searches for `#` first still counts only comments at a line's start or after a blank."""

import ast
import textwrap

from monitors.collector import FactCollector
from monitors.facts import FileFacts
from monitors.visitor import Dispatch
from tests.monitors.monitor_helpers import postings

FUNCTION = """
def f_{i}(a, b=None):
    total = 0
    for item in range(a):
        total += scale(item)
    return total if b is None else total + b
"""


class CountingCollector(FactCollector):
    """The collector the CLI runs, counting how often a node class's dispatch is looked up."""

    def __init__(self, facts: FileFacts) -> None:
        super().__init__(facts)
        self.lookups = 0

    def dispatch(self, cls: type) -> Dispatch:
        self.lookups += 1
        return super().dispatch(cls)


def lookups(functions: int) -> int:
    source = "".join(FUNCTION.format(i=i) for i in range(functions))
    collector = CountingCollector(FileFacts(path="pkg/mod.py", module="pkg.mod"))
    collector.collect(ast.parse(source))
    return collector.lookups


def test_dispatch_lookups_do_not_grow_with_the_file():
    one = lookups(1)
    assert one > 0
    assert lookups(200) == one


def test_todo_comments_count_at_a_line_start_or_after_a_blank_only():
    source = textwrap.dedent(
        """\
        #TODO at the start of a line
        x = 1  # TODO after code
        y = 2 #FIXME after one blank
        z = "a#TODO"
        w = 3\t# FIXME after a tab
        v = 4 ## TODO
        u = 5  # TODOS
        t = 6#TODO glued to code
        """
    )
    assert postings("pkg/mod.py", source)["exploration:todo:pkg/mod.py"] == [
        ["FIXME", 3],
        ["FIXME", 5],
        ["TODO", 1],
        ["TODO", 2],
    ]
