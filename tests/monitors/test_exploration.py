from tests.monitors.monitor_helpers import asks

STUB = 'def plan(x):\n    """Make a plan."""\n    raise NotImplementedError("later")\n'


def test_unimplemented_stub():
    assert asks({"a.py": STUB}, "UNIMPLEMENTED_STUB", "a.plan")


def test_methods_private_and_abstract_stubs_are_not_asked_about():
    files = {
        "a.py": "class Base:\n    def run(self):\n        raise NotImplementedError\n",
        "b.py": STUB.replace("def plan", "def _plan"),
        "c.py": "@abstractmethod\n" + STUB,
        "d.py": "def real(x):\n    if x:\n        raise NotImplementedError\n    return 1\n",
    }
    assert not asks(files, "UNIMPLEMENTED_STUB")


def test_open_todo_one_question_per_file():
    found = asks({"a.py": "x = 1  # TODO: tune\n# FIXME broken on win\ny = 2\n"}, "OPEN_TODO")
    assert len(found) == 1 and found[0].evidence == ("a.py:1", "a.py:2")


def test_todo_inside_strings_and_xxx_are_not_markers():
    assert not asks({"a.py": 's = "`# TODO` in text"\n# XXX: emphasis\n'}, "OPEN_TODO")
