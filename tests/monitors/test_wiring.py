"""MISSING_WIRING: imports and Celery task names that lead nowhere (monitors/wiring.py)."""

from monitor_helpers import batch, findings


def test_import_of_missing_project_module():
    files = {"pkg/__init__.py": "", "pkg/a.py": "import pkg.gone\n"}
    assert findings(files) == [("MISSING_WIRING", "module.pkg.gone"), ("UNDISCOVERED_MODULE", "module.pkg.a")]


def test_import_of_missing_name():
    files = {"pkg/__init__.py": "", "pkg/a.py": "x = 1\n", "pkg/b.py": "from pkg.a import x, y\n"}
    assert findings(files) == [("MISSING_WIRING", "symbol.pkg.a.y"), ("UNDISCOVERED_MODULE", "module.pkg.b")]


def test_relative_imports_resolve():
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "def f(): pass\n",
        "pkg/b.py": "from .a import f\nfrom . import a\n",
    }
    assert findings(files) == [("UNDISCOVERED_MODULE", "module.pkg.b")]
    assert findings({**files, "pkg/c.py": "from .a import g\n"}) == [
        ("MISSING_WIRING", "symbol.pkg.a.g"),
        ("UNDISCOVERED_MODULE", "module.pkg.b"),
        ("UNDISCOVERED_MODULE", "module.pkg.c"),
    ]


def test_stdlib_and_third_party_imports_are_not_questions():
    assert findings({"a.py": "import os, django.db\nfrom celery import shared_task\n"}) == []


def test_guarded_and_dynamic_imports_are_not_questions():
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "try:\n    import pkg.optional\nexcept ImportError:\n    pass\n",
        "pkg/star.py": "from os import *\n",
        "pkg/b.py": "from pkg.star import anything\n",
        "pkg/c.py": "globals().update(x=1)\n",
        "pkg/d.py": "from pkg.c import x\nfrom pkg import a\nfrom pkg.a import __doc__\n",
    }
    assert findings(files) == [
        ("UNDISCOVERED_MODULE", "module.pkg.b"),
        ("UNDISCOVERED_MODULE", "module.pkg.d"),
    ]


def test_submodule_import_through_package_and_namespace_packages():
    files = {"ns/sub/mod.py": "VALUE = 1\n", "app.py": "from ns.sub import mod\nimport ns.sub.mod\n"}
    assert findings(files) == []
    assert findings({**files, "b.py": "from ns.sub import nope\n"}) == [
        ("MISSING_WIRING", "symbol.ns.sub.nope")
    ]


def test_task_sent_by_name_that_no_task_defines():
    files = {"proj/__init__.py": "", "proj/tasks.py": "@shared_task\ndef add(x, y):\n    return x + y\n"}
    caller = {"proj/use.py": 'app.send_task("proj.tasks.add")\nsignature("proj.tasks.mul")\n'}
    assert findings({**files, **caller}) == [
        ("MISSING_WIRING", "task.proj.tasks.mul"),
        ("UNDISCOVERED_MODULE", "module.proj.use"),
    ]


def test_task_with_explicit_name():
    files = {
        "t.py": '@app.task(name="jobs.ping")\ndef ping():\n    pass\n',
        "u.py": 'send_task("jobs.ping")\n',
    }
    assert findings(files) == []


def test_a_missing_submodule_imported_two_ways_is_one_question_owned_by_one_key():
    files = {"pkg/__init__.py": "", "pkg/a.py": "from pkg import gone\nimport pkg.gone\n"}
    store = batch(files)
    owners = [
        key for key, qs in store.by_key.items() for q in qs.values() if q.hypothesis == "MISSING_WIRING"
    ]
    assert owners == ["integration:import:pkg.gone"]
    assert findings(files) == [("MISSING_WIRING", "module.pkg.gone"), ("UNDISCOVERED_MODULE", "module.pkg.a")]
