"""Random edit sequences over small generated trees whose files make every monitor fire."""

from __future__ import annotations

from hypothesis import strategies as st

PATHS = [
    "pkg/__init__.py", "pkg/a.py", "pkg/b.py", "pkg/sub/__init__.py", "pkg/sub/c.py", "pkg/settings.py",
    "top.py", "tests/test_x.py", "docs/README.md", "setup.cfg",
    "src/app/__init__.py", "src/app/m.py", "scripts/run.py", "pkg/templates/page.html", "logging.yaml",
]  # fmt: skip
MODULES = ["a", "b", "sub", "sub.c", "gone", "_private"]
NAMES = ["alpha", "beta", "gamma", "Worker", "Base", "get_alpha", "_hidden"]
CHANNELS = ["ch.one", "ch.two", "other.x"]
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

python_statement = st.one_of(
    st.builds('emit("{}")\n'.format, channel),
    st.builds('ChemSub("{}")\n'.format, channel),
    st.builds('ChemSub(topic="{}")\n'.format, channel),
    st.sampled_from(['subscribe("ch.*")\n', 'subscribe("#")\n', 'subscribe("other.#")\n']),
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
    # import roots, guarded imports, lookups and loaders by built names, scripts (issue 10 items 4-5)
    st.sampled_from(['import sys\nsys.path.insert(0, "src")\n', 'sys.path.append(os.path.join(os.path.dirname(__file__), "..", "src"))\n']),
    st.builds("from app.m import {}\n".format, name),
    st.builds("try:\n    import pkg.{}\nexcept ImportError:\n    pass\n".format, module),
    st.builds("try:\n    from pkg.{} import {}\nexcept ImportError:\n    pass\n".format, module, name),
    st.sampled_from(['getattr(obj, "get_" + x)\n', 'hasattr(obj, f"get_{x}_beta")\n', 'n = "get_" + x\ngetattr(o, n)\n']),
    st.sampled_from(['import_module("pkg.%s" % x)\n', 'import_module(f"{x}.c")\n', 'import_module(path)\n']),
    st.builds('if __name__ == "__main__":\n    from {} import {}\n'.format, st.sampled_from(["a", "m", "run"]), name),
)  # fmt: skip
doc_line = st.one_of(
    st.builds("See `pkg.{}.{}`.\n".format, module, name),
    st.builds(".. autofunction:: pkg.{}.{}\n".format, module, name),
    st.just("plain words\n"),
)
config_line = st.builds("[entry]\nrun = pkg.{}:{}\n".format, module, name)
template_line = st.builds("{{{{ obj.{} }}}}\n".format, name)
yaml_line = st.builds("handler: pkg.{}.{}\n".format, module, name)


def content(path: str) -> st.SearchStrategy[str]:
    if path.endswith(".md"):
        return st.lists(doc_line, max_size=4).map("".join)
    if path.endswith(".cfg"):
        return config_line
    if path.endswith(".html"):
        return st.lists(template_line, max_size=3).map("".join)
    if path.endswith(".yaml"):
        return yaml_line
    return st.lists(python_statement, max_size=6).map("".join)


write = st.sampled_from(PATHS).flatmap(lambda p: st.tuples(st.just("write"), st.just(p), content(p)))
delete = st.tuples(st.just("delete"), st.sampled_from(PATHS), st.just(""))
move = st.tuples(st.just("move"), st.sampled_from(PATHS), st.sampled_from(PATHS))
operations = st.lists(st.one_of(write, write, delete, move), min_size=1, max_size=25)
