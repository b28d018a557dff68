"""DEAD_CODE: definitions nothing in the tree refers to (monitors/deadcode.py)."""

from monitor_helpers import findings


def test_dead_function():
    assert findings({"a.py": "def unused():\n    pass\n"}) == [("DEAD_CODE", "symbol.a.unused")]


def test_reference_by_name_attribute_string_or_import_is_use():
    assert findings({"a.py": "def f():\n    pass\n", "b.py": "import a\na.f()\n"}) == []
    assert findings({"a.py": "def f():\n    pass\n", "b.py": "from a import f\n"}) == []
    assert findings({"a.py": 'def f():\n    pass\n__all__ = ["f"]\n'}) == []
    assert findings({"a.py": "def f():\n    pass\n", "setup.cfg": "[x]\nrun = a:f\n"}) == []


def test_decorated_dunder_and_test_definitions_are_not_dead():
    files = {
        "a.py": "@app.route('/')\ndef view():\n    pass\nclass K:\n    def __repr__(self):\n        pass\nK()\n",
        "tests/test_a.py": "def test_x():\n    pass\n",
    }
    assert findings(files) == [("MISSING_DOCSTRINGS", "module.a")]


def test_methods_of_framework_subclasses_are_not_dead():
    files = {
        "a.py": "from django.views import View\nclass V(View):\n    def get(self, request):\n        pass\n"
    }
    assert findings(files) == [("MISSING_DOCSTRINGS", "module.a")]


def test_dynamic_dispatch_prefix_counts_as_use():
    src = "class W:\n    def visit_Call(self):\n        pass\n    def go(self, n):\n        getattr(self, 'visit_' + n)()\nW().go('x')\n"
    assert findings({"a.py": src}) == [("MISSING_DOCSTRINGS", "module.a")]
    assert findings({"a.py": src.replace("getattr(self, 'visit_' + n)", "getattr(other, n)")}) == [
        ("DEAD_CODE", "symbol.a.W.visit_Call"),
        ("MISSING_DOCSTRINGS", "module.a"),
    ]


def test_methods_of_classes_dispatching_on_computed_names_are_not_dead():
    src = "class F:\n    def format(self, c):\n        return getattr(self, c)()\n    def U(self):\n        pass\nF().format('U')\n"
    assert findings({"a.py": src.replace("F().format('U')", "F().format(x)")}) == [
        ("MISSING_DOCSTRINGS", "module.a")
    ]
