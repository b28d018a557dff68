"""MISSING_WIRING: imports and Celery task names that lead nowhere (monitors/wiring.py)."""

from tests.monitors.monitor_helpers import batch, findings, questions


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


def test_star_imports_namespace_writers_and_guarded_imports():
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "try:\n    import pkg.optional\nexcept ImportError:\n    pass\n",
        "pkg/star.py": "from os import *\n",
        "pkg/b.py": "from pkg.star import anything\n",
        "pkg/c.py": "globals().update(x=1)\n",
        "pkg/d.py": "from pkg.c import x\nfrom pkg import a\nfrom pkg.a import __doc__\n",
    }
    assert findings(files) == [
        ("MISSING_WIRING", "module.pkg.optional"),  # low: it can never succeed (see below)
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


# -- the roots a tree imports itself under -----------------------------------------------

SRC = {
    "src/kloros/__init__.py": "",
    "src/kloros/bus.py": '"""The bus."""\nclass ChemPub:\n    """Publishes."""\n',
    "src/kloros/__main__.py": "from kloros.bus import ChemPub\nfrom kloros import worker\n",
    "src/kloros/worker.py": '"""Worker."""\nfrom kloros.bus import ChemPub, ChemSubscriber\nimport kloros.memory\n',
}


def test_a_src_layout_is_imported_without_its_prefix():
    # before, `kloros` was taken for a third-party package: both missing names went unasked
    assert findings(SRC) == [
        ("MISSING_WIRING", "module.kloros.memory"),
        ("MISSING_WIRING", "symbol.kloros.bus.ChemSubscriber"),
    ]


# a script beside the package, run as `python scripts/replay.py`, that puts src/ on sys.path
REPLAY = '''#!/usr/bin/env python3
"""Replay recorded events."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))

from kloros.bus import ChemPub
from kloros.replay import Recorder
'''


def test_a_sys_path_edit_adds_a_root_and_both_names_are_one_module():
    files = {
        **SRC,
        "src/kloros/worker.py": '"""Worker."""\nfrom kloros.bus import ChemPub\n',
        "scripts/replay.py": REPLAY,
    }
    files = {
        k.replace("src/", "lib/") if k.startswith("src/") else k: v.replace('"src"', '"lib"')
        for k, v in files.items()
    }
    assert findings(files) == [("MISSING_WIRING", "module.kloros.replay")]
    pathlib = REPLAY.replace(
        'sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))',
        'ROOT = Path(__file__).resolve().parent.parent\nsys.path.append(str(ROOT / "lib"))',
    )
    assert findings({**files, "scripts/replay.py": pathlib}) == [("MISSING_WIRING", "module.kloros.replay")]


def test_a_script_imports_the_modules_beside_it():
    files = {
        "tools/helpers.py": '"""Helpers."""\ndef load(path):\n    """Load."""\n    return path\n',
        "tools/migrate.py": 'from helpers import load, save\n\nif __name__ == "__main__":\n    load("x")\n',
    }
    assert findings(files) == [("MISSING_WIRING", "symbol.helpers.save")]


def test_an_internal_import_that_can_never_succeed_is_a_low_question_even_when_guarded():
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "try:\n    import pkg.optional\nexcept ImportError:\n    pass\n",
        "pkg/__main__.py": "from pkg import a\n",
    }
    assert findings(files) == [("MISSING_WIRING", "module.pkg.optional")]
    (question,) = questions(files)
    assert question.severity == "low" and "ImportError" in question.question
    names = {
        **files,
        "pkg/a.py": "try:\n    from pkg.compat import fast\nexcept ImportError:\n    fast = None\n",
        "pkg/compat.py": "slow = 1\n",
    }
    assert findings(names) == [("MISSING_WIRING", "symbol.pkg.compat.fast")]


def test_guarded_imports_of_accelerators_and_local_settings_are_optional_by_design():
    files = {
        "pkg/__init__.py": "",
        "pkg/__main__.py": "from pkg import settings\n",
        # markupsafe-style compiled speedups, and a local settings file left out of version control
        "pkg/settings.py": "try:\n    from pkg._speedups import escape\nexcept ImportError:\n    escape = None\ntry:\n    from pkg.local_settings import *\nexcept ImportError:\n    pass\n",
    }
    assert findings(files) == []


def test_a_module_that_replaces_itself_in_sys_modules_answers_for_any_name():
    # CPython 3.13 Lib/collections/abc.py, whole
    files = {
        "collections/__init__.py": "",
        "collections/abc.py": "import _collections_abc\nimport sys\nsys.modules[__name__] = _collections_abc\n",
        "_collections_abc.py": '__all__ = ["Mapping"]\nclass Mapping:\n    """A mapping."""\n',
        "selectors.py": "from collections.abc import Mapping\n",
    }
    assert findings(files) == []


def test_calls_named_like_sys_path_edits_are_not_roots():
    files = {"tools/run.py": 'from collections import deque\nappend("src")\nitems.insert(0, "lib")\n'}
    assert findings(files) == []


def test_a_name_a_class_decorator_derives_from_the_class_name():  # [dynamic-module-attr] pretix
    # pretix/base/models/event.py:565: hierarkey's .add() sets Event_SettingsStore on the module
    event = (
        "from hierarkey.models import Hierarkey\n\nsettings_hierarkey = Hierarkey(attribute_name='settings')\n\n"
        "@settings_hierarkey.add(parent_field='organizer', cache_namespace='event')\n"
        "class Event:\n    pass\n\nclass SubEvent:\n    pass\n"
    )
    # pretix/base/models/__init__.py:30
    models = "from .event import Event, Event_SettingsStore, SubEvent_SettingsStore, EventSettings\n"
    files = {"pretix/__init__.py": "", "pretix/models/__init__.py": models, "pretix/models/event.py": event}
    assert [f for f in findings(files) if f[0] == "MISSING_WIRING"] == [
        ("MISSING_WIRING", "symbol.pretix.models.event.EventSettings"),  # no separator: not derived
        ("MISSING_WIRING", "symbol.pretix.models.event.SubEvent_SettingsStore"),  # SubEvent is not decorated
    ]
