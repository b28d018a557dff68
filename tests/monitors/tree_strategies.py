"""Random edit sequences over small generated trees whose files make every monitor fire."""

from __future__ import annotations

from hypothesis import strategies as st

PATHS = [
    "pkg/__init__.py", "pkg/a.py", "pkg/b.py", "pkg/sub/__init__.py", "pkg/sub/c.py", "pkg/settings.py",
    "top.py", "tests/test_x.py", "docs/README.md", "setup.cfg",
]  # fmt: skip
MODULES = ["a", "b", "sub", "sub.c", "gone"]
NAMES = ["alpha", "beta", "gamma", "Worker", "Base"]
CHANNELS = ["ch.one", "ch.two", "other.x"]
CHANNEL_MODULES = ["a", "b", "sub.c"]  # where channel constants, wrappers and objects live
ATTRS = ["client", "queue"]

CLONE = """
def {name}(items, limit):
    total = 0
    for x in items:
        if x.size > limit:
            total += x.size * 2
    return total
"""

name = st.sampled_from(NAMES)
module = st.sampled_from(MODULES)
channel = st.sampled_from(CHANNELS)
attr = st.sampled_from(ATTRS)
channel_module = st.sampled_from(CHANNEL_MODULES)

python_statement = st.one_of(
    st.builds('ChemPub().emit("{}")\n'.format, channel),
    st.builds('ChemSub("{}", cb)\n'.format, channel),
    st.builds('ChemSub(topic="{}")\n'.format, channel),
    st.sampled_from(['ChemSub("ch.*")\n', 'ChemSub("#")\n', 'ChemSub("other.#")\n']),
    # channels that only other modules can resolve: constants, Enum members, wrappers, objects
    st.builds('TOPIC = "{}"\n'.format, channel),
    st.builds("from pkg.{} import TOPIC\nChemPub().emit(TOPIC)\n".format, channel_module),
    st.builds("from pkg.{} import TOPIC\nfor t in [TOPIC]:\n    ChemSub(t, cb)\n".format, channel_module),
    st.builds('class Topic(str, Enum):\n    ONE = "{}"\n'.format, channel),
    st.builds("from pkg.{} import Topic\nChemSub(Topic.ONE.value, cb)\n".format, channel_module),
    st.just("def fire(name, **facts):\n    ChemPub().emit(name, **facts)\n"),
    st.just("class Listener:\n    def __init__(self, topic):\n        self.sub = ChemSub(topic, self.on)\n"),
    st.builds('from pkg.{} import fire\nfire("{}")\n'.format, channel_module, channel),
    st.builds('from pkg.{} import Listener\nListener(topic="{}")\n'.format, channel_module, channel),
    st.just("bus = ChemPub()\nsig = Signal()\n"),
    st.builds('from pkg.{} import bus\nbus.emit("{}")\n'.format, channel_module, channel),
    st.builds("from pkg.{} import sig\nsig.{}(handler)\n".format, channel_module, st.sampled_from(["send", "connect"])),
    st.just("from collections import deque\nclass Pump:\n    def __init__(self):\n        self.queue = deque()\n    def push(self, x):\n        self.queue.append(x)\n"),
    st.just("def drain(pump):\n    return pump.queue.popleft()\n"),
    st.builds("import pkg.{}\n".format, module),
    st.builds("from pkg.{} import {}\n".format, module, name),
    st.builds("from . import {}\n".format, st.sampled_from(["a", "b", "sub"])),
    st.builds("def {}():\n    return {}()\n".format, name, name),
    st.builds(CLONE.format, name=name),
    st.builds(
        "class {}({}):\n    def run(self):\n        self.{}.go()\n    def setup(self):\n        self.{} = 1\n".format,
        name, st.sampled_from(["", "Base", "object", "View"]), attr, attr,
    ),
    st.builds('app.send_task("pkg.a.{}")\n'.format, name),
    st.builds("@shared_task\ndef {}():\n    pass\n".format, name),
    st.builds('INSTALLED_APPS = ["pkg.{}"]\n'.format, module),
    st.builds('def {}():\n    raise NotImplementedError\n'.format, name),
    st.just("x = 1  # TODO: later\n"),
    st.builds('__all__ = ["{}"]\n'.format, name),
    st.builds('"""Module."""\n'.format),
    st.just("def broken(:\n"),
)  # fmt: skip
doc_line = st.one_of(
    st.builds("See `pkg.{}.{}`.\n".format, module, name),
    st.builds(".. autofunction:: pkg.{}.{}\n".format, module, name),
    st.just("plain words\n"),
)
config_line = st.builds("[entry]\nrun = pkg.{}:{}\n".format, module, name)


def content(path: str) -> st.SearchStrategy[str]:
    if path.endswith(".md"):
        return st.lists(doc_line, max_size=4).map("".join)
    if path.endswith(".cfg"):
        return config_line
    return st.lists(python_statement, max_size=6).map("".join)


write = st.sampled_from(PATHS).flatmap(lambda p: st.tuples(st.just("write"), st.just(p), content(p)))
delete = st.tuples(st.just("delete"), st.sampled_from(PATHS), st.just(""))
move = st.tuples(st.just("move"), st.sampled_from(PATHS), st.sampled_from(PATHS))
operations = st.lists(st.one_of(write, write, delete, move), min_size=1, max_size=25)
