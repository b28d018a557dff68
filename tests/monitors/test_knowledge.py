from monitor_helpers import batch, findings

from monitors.engine import KeyLookup
from monitors.knowledge import KnowledgeMonitor

UNDOCUMENTED = "def a():\n    pass\ndef b():\n    pass\nclass C:\n    def m(self):\n        pass\n"
UNUSED = ["C", "C.m", "a", "b"]  # nothing in these snippets calls them


def dead(module: str, names: list[str]) -> list[tuple[str, str]]:
    return [("DEAD_CODE", f"symbol.{module}.{name}") for name in names]


def test_missing_docstrings_above_threshold():
    found = [
        q
        for q in batch({"pkg/mod.py": UNDOCUMENTED}).all_questions().values()
        if q.hypothesis == "MISSING_DOCSTRINGS"
    ]
    assert len(found) == 1 and "pkg/mod.py:1" in found[0].evidence  # the module itself counts
    assert findings({"pkg/mod.py": UNDOCUMENTED}) == [
        *dead("pkg.mod", UNUSED),
        ("MISSING_DOCSTRINGS", "module.pkg.mod"),
    ]


def test_documented_private_and_test_code_is_not_counted():
    documented = '"""Module."""\ndef a():\n    """A."""\ndef _b():\n    pass\nclass _C:\n    def m(self):\n        pass\n'
    assert findings({"mod.py": documented, "tests/test_mod.py": UNDOCUMENTED}) == dead(
        "mod", ["_C", "_C.m", "_b", "a"]
    )


def test_threshold_is_configurable():
    monitor = KnowledgeMonitor(min_undocumented=10)
    store = batch({"mod.py": UNDOCUMENTED})
    lookup = KeyLookup(store, "knowledge", "knowledge:docs:mod.py")
    assert not monitor.evaluate("docs:mod.py", lookup)
    assert KnowledgeMonitor(min_undocumented=2).evaluate("docs:mod.py", lookup)


CODE = {
    "pkg/__init__.py": "",
    "pkg/mod.py": '"""Code the documents below name."""\ndef func():\n    """F."""\nclass K:\n    """K."""\n    def meth(self):\n        """M."""\n',
    "pkg/__main__.py": "from pkg.mod import K, func\nfunc()\nK().meth()\n",
}


def test_stale_knowledge_in_markdown():
    assert findings({**CODE, "README.md": "Call `pkg.mod.gone` first.\n"}) == [
        ("STALE_KNOWLEDGE", "symbol.pkg.mod.gone")
    ]
    assert findings({**CODE, "README.md": "Use `pkg.mod.K.old()`.\n"}) == [
        ("STALE_KNOWLEDGE", "symbol.pkg.mod.K.old")
    ]
    assert findings({**CODE, "README.md": "See `pkg.other`.\n"}) == [("STALE_KNOWLEDGE", "symbol.pkg.other")]


def test_existing_and_foreign_symbols_are_not_stale():
    doc = "`pkg.mod.func` and ``pkg.mod.K.meth()`` and `os.path.join` and `pkg.mod`\n"
    assert findings({**CODE, "README.md": doc}) == []


def test_autodoc_directives_and_roles():
    rst = ".. autofunction:: pkg.mod.func\n.. autoclass:: pkg.mod.Gone\n\nSee :func:`~pkg.mod.vanished`.\n"
    assert findings({**CODE, "docs/api.rst": rst}) == [
        ("STALE_KNOWLEDGE", "symbol.pkg.mod.Gone"),
        ("STALE_KNOWLEDGE", "symbol.pkg.mod.vanished"),
    ]


def test_docstring_roles_are_checked():
    src = 'def f():\n    """Like :func:`pkg.mod.gone`."""\n'
    assert findings({**CODE, "pkg/user.py": src}) == [
        ("DEAD_CODE", "symbol.pkg.user.f"),
        ("STALE_KNOWLEDGE", "symbol.pkg.mod.gone"),
        ("UNDISCOVERED_MODULE", "module.pkg.user"),
    ]


def test_documentation_names_modules_as_they_are_imported_not_by_their_src_path():
    files = {
        "src/kloros/__init__.py": "",
        "src/kloros/bus.py": '"""The bus."""\nclass ChemPub:\n    """Publishes."""\n',
        "src/kloros/__main__.py": "from kloros.bus import ChemPub\n",
        "README.md": "Publish with `kloros.bus.ChemPub`, not `kloros.bus.Publisher`.\n",
    }
    assert findings(files) == [("STALE_KNOWLEDGE", "symbol.kloros.bus.Publisher")]
