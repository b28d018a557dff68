from monitors.knowledge import KnowledgeMonitor
from tests.monitors.monitor_helpers import asks, batch

UNDOCUMENTED = "def a():\n    pass\ndef b():\n    pass\nclass C:\n    def m(self):\n        pass\n"


def test_missing_docstrings_above_threshold():
    found = asks({"pkg/mod.py": UNDOCUMENTED}, "MISSING_DOCSTRINGS")
    assert len(found) == 1 and "pkg/mod.py:1" in found[0].evidence  # the module itself counts


def test_documented_private_and_test_code_is_not_counted():
    documented = '"""Module."""\ndef a():\n    """A."""\ndef _b():\n    pass\nclass _C:\n    def m(self):\n        pass\n'
    assert not asks({"mod.py": documented, "tests/test_mod.py": UNDOCUMENTED}, "MISSING_DOCSTRINGS")


def test_threshold_is_configurable():
    monitor = KnowledgeMonitor(min_undocumented=10)
    store = batch({"mod.py": UNDOCUMENTED})
    assert not monitor.evaluate("docs:mod.py", lambda key: store.postings(f"knowledge:{key}"))
    assert KnowledgeMonitor(min_undocumented=2).evaluate(
        "docs:mod.py", lambda key: store.postings(f"knowledge:{key}")
    )


CODE = {
    "pkg/__init__.py": "",
    "pkg/mod.py": "def func():\n    pass\nclass K:\n    def meth(self):\n        pass\n",
}


def test_stale_knowledge_in_markdown():
    assert asks({**CODE, "README.md": "Call `pkg.mod.gone` first.\n"}, "STALE_KNOWLEDGE", "pkg.mod.gone")
    assert asks({**CODE, "README.md": "Use `pkg.mod.K.old()`.\n"}, "STALE_KNOWLEDGE", "pkg.mod.K.old")
    assert asks({**CODE, "README.md": "See `pkg.other`.\n"}, "STALE_KNOWLEDGE", "pkg.other")


def test_existing_and_foreign_symbols_are_not_stale():
    doc = "`pkg.mod.func` and ``pkg.mod.K.meth()`` and `os.path.join` and `pkg.mod`\n"
    assert not asks({**CODE, "README.md": doc}, "STALE_KNOWLEDGE")


def test_autodoc_directives_and_roles():
    rst = ".. autofunction:: pkg.mod.func\n.. autoclass:: pkg.mod.Gone\n\nSee :func:`~pkg.mod.vanished`.\n"
    found = {q.capability_key for q in asks({**CODE, "docs/api.rst": rst}, "STALE_KNOWLEDGE")}
    assert found == {"symbol.pkg.mod.Gone", "symbol.pkg.mod.vanished"}


def test_docstring_roles_are_checked():
    src = 'def f():\n    """Like :func:`pkg.mod.gone`."""\n'
    assert asks({**CODE, "pkg/user.py": src}, "STALE_KNOWLEDGE", "pkg.mod.gone")
