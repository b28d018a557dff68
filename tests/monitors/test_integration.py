from tests.monitors.monitor_helpers import asks, batch, questions

# -- ORPHANED_QUEUE / ORPHANED_CONSUMER ------------------------------------------------


def test_orphaned_queue():
    assert asks({"a.py": 'emit("curiosity.x")'}, "ORPHANED_QUEUE", "curiosity.x")


def test_consumer_in_another_file_resolves_orphaned_queue():
    assert not asks({"a.py": 'emit("curiosity.x")', "b.py": 'ChemSub("curiosity.x")'}, "ORPHANED_QUEUE")


def test_keyword_topic_counts_as_consumer():  # the seed missed ChemSub(topic=...): 10 of 16 false
    assert not asks({"a.py": 'emit("t.x")', "b.py": 'ChemSub(topic="t.x")'}, "ORPHANED_QUEUE")


def test_publish_signal_keyword_and_chempub_are_producers():
    assert asks({"a.py": 'publish(signal="t.a")'}, "ORPHANED_QUEUE", "t.a")
    assert asks({"a.py": 'ChemPub().emit("t.b")'}, "ORPHANED_QUEUE", "t.b")


def test_append_is_not_a_producer():  # the seed counted any .append() as a producer
    assert not questions({"a.py": 'queue.append("t.x")\nitems.put("t.y")'})


def test_wildcard_subscriptions_follow_amqp_semantics():
    assert not asks({"a.py": 'emit("c.x")', "b.py": 'subscribe("c.*")'}, "ORPHANED_QUEUE")
    assert not asks({"a.py": 'emit("c.x.y")', "b.py": 'subscribe("c.#")'}, "ORPHANED_QUEUE")
    assert not asks({"a.py": 'emit("c.x.y")', "b.py": 'subscribe("#")'}, "ORPHANED_QUEUE")
    assert asks({"a.py": 'emit("c.x.y")', "b.py": 'subscribe("c.*")'}, "ORPHANED_QUEUE", "c.x.y")


def test_orphaned_consumer():
    assert asks({"b.py": 'ChemSub("t.lonely")'}, "ORPHANED_CONSUMER", "t.lonely")
    assert not asks({"a.py": 'emit("t.x")', "b.py": 'ChemSub("t.x")'}, "ORPHANED_CONSUMER")


def test_wildcard_consumer_matching_nothing():
    assert asks({"b.py": 'ChemSub("t.*")', "a.py": 'emit("u.x")'}, "ORPHANED_CONSUMER", "t.*")
    assert not asks({"b.py": 'ChemSub("t.*")', "a.py": 'emit("t.x")'}, "ORPHANED_CONSUMER")


def test_channels_wired_only_inside_tests_ask_nothing():
    assert not questions({"tests/test_bus.py": 'emit("t.x")\nChemSub("t.y")'})


def test_non_literal_and_non_channel_strings_are_ignored():
    assert not questions({"a.py": 'emit(name)\nemit("not a channel name")\nhandler.emit(record)'})


# -- MISSING_WIRING --------------------------------------------------------------------


def test_import_of_missing_project_module():
    files = {"pkg/__init__.py": "", "pkg/a.py": "import pkg.gone\n"}
    assert asks(files, "MISSING_WIRING", "pkg.gone")


def test_import_of_missing_name():
    files = {"pkg/__init__.py": "", "pkg/a.py": "x = 1\n", "pkg/b.py": "from pkg.a import x, y\n"}
    assert asks(files, "MISSING_WIRING", "pkg.a.y")
    assert not asks(files, "MISSING_WIRING", "pkg.a.x")


def test_relative_imports_resolve():
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "def f(): pass\n",
        "pkg/b.py": "from .a import f\nfrom . import a\n",
    }
    assert not asks(files, "MISSING_WIRING")
    assert asks({**files, "pkg/c.py": "from .a import g\n"}, "MISSING_WIRING", "pkg.a.g")


def test_stdlib_and_third_party_imports_are_not_questions():
    assert not asks({"a.py": "import os, django.db\nfrom celery import shared_task\n"}, "MISSING_WIRING")


def test_guarded_and_dynamic_imports_are_not_questions():
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": "try:\n    import pkg.optional\nexcept ImportError:\n    pass\n",
        "pkg/star.py": "from os import *\n",
        "pkg/b.py": "from pkg.star import anything\n",
        "pkg/c.py": "globals().update(x=1)\n",
        "pkg/d.py": "from pkg.c import x\nfrom pkg import a\nfrom pkg.a import __doc__\n",
    }
    assert not asks(files, "MISSING_WIRING")


def test_submodule_import_through_package_and_namespace_packages():
    files = {"ns/sub/mod.py": "VALUE = 1\n", "app.py": "from ns.sub import mod\nimport ns.sub.mod\n"}
    assert not asks(files, "MISSING_WIRING")
    assert asks({**files, "b.py": "from ns.sub import nope\n"}, "MISSING_WIRING", "ns.sub.nope")


def test_task_sent_by_name_that_no_task_defines():
    files = {"proj/__init__.py": "", "proj/tasks.py": "@shared_task\ndef add(x, y):\n    return x + y\n"}
    caller = {"proj/use.py": 'app.send_task("proj.tasks.add")\nsignature("proj.tasks.mul")\n'}
    found = asks({**files, **caller}, "MISSING_WIRING")
    assert [q.capability_key for q in found] == ["task.proj.tasks.mul"]


def test_task_with_explicit_name():
    files = {
        "t.py": '@app.task(name="jobs.ping")\ndef ping():\n    pass\n',
        "u.py": 'send_task("jobs.ping")\n',
    }
    assert not asks(files, "MISSING_WIRING")


# -- UNINITIALIZED_COMPONENT -----------------------------------------------------------

SERVICE = """
class Service:
    def run(self):
        self.client.fetch()
"""


def test_uninitialized_component():
    assert asks({"svc.py": SERVICE}, "UNINITIALIZED_COMPONENT", "Service.client")


def test_assignment_anywhere_in_the_class_counts():
    src = SERVICE + "    def connect(self):\n        self.client = make()\n"
    assert not asks({"svc.py": src}, "UNINITIALIZED_COMPONENT")


def test_class_attribute_and_annotation_count_as_declarations():
    assert not asks(
        {"svc.py": SERVICE.replace("class Service:", "class Service:\n    client = None")},
        "UNINITIALIZED_COMPONENT",
    )
    assert not asks(
        {"svc.py": SERVICE.replace("class Service:", "class Service:\n    client: Client")},
        "UNINITIALIZED_COMPONENT",
    )


def test_project_base_class_declares_it():
    base = "class Base:\n    def __init__(self):\n        self.client = C()\n"
    files = {
        "base.py": base,
        "svc.py": "from base import Base\n" + SERVICE.replace("Service:", "Service(Base):"),
    }
    assert not asks(files, "UNINITIALIZED_COMPONENT")


def test_unknown_base_class_may_declare_it():
    files = {"svc.py": "from django.views import View\n" + SERVICE.replace("Service:", "Service(View):")}
    assert not asks(files, "UNINITIALIZED_COMPONENT")


def test_guards_and_outside_assignment_silence_it():
    guarded = SERVICE.replace(
        "self.client.fetch()", 'if hasattr(self, "client"):\n            self.client.fetch()'
    )
    assert not asks({"svc.py": guarded}, "UNINITIALIZED_COMPONENT")
    assert not asks({"svc.py": SERVICE, "wire.py": "service.client = Client()\n"}, "UNINITIALIZED_COMPONENT")


def test_subclass_that_declares_it_silences_the_base():
    files = {"svc.py": SERVICE + "class Real(Service):\n    def __init__(self):\n        self.client = C()\n"}
    assert not asks(files, "UNINITIALIZED_COMPONENT")


# -- DUPLICATE_RESPONSIBILITY ----------------------------------------------------------

BODY = """
def {name}(items, limit):
    total = 0
    for {item} in items:
        if {item}.size > limit:
            total += {item}.size * 2
        else:
            total -= 1
    return total
"""


def test_duplicate_bodies_in_different_modules():
    files = {"a.py": BODY.format(name="f", item="x"), "b.py": BODY.format(name="g", item="y")}
    assert asks(files, "DUPLICATE_RESPONSIBILITY", "a.f")


def test_different_attributes_or_tiny_bodies_are_not_duplicates():
    other = BODY.format(name="g", item="y").replace(".size", ".weight")
    assert not asks({"a.py": BODY.format(name="f", item="x"), "b.py": other}, "DUPLICATE_RESPONSIBILITY")
    tiny = "def f(self):\n    return self.x\n"
    assert not asks({"a.py": tiny, "b.py": tiny}, "DUPLICATE_RESPONSIBILITY")


def test_cloned_class_is_one_question_not_one_per_method():
    cls = "class K:\n" + "\n".join("    " + line for line in BODY.format(name="m", item="i").splitlines())
    cls = cls.replace("(items", "(self, items")
    found = asks({"a.py": cls, "b.py": cls}, "DUPLICATE_RESPONSIBILITY")
    assert [q.capability_key for q in found] == ["symbol.a.K"]


# -- DEAD_CODE -------------------------------------------------------------------------


def test_dead_function():
    assert asks({"a.py": "def unused():\n    pass\n"}, "DEAD_CODE", "a.unused")


def test_reference_by_name_attribute_string_or_import_is_use():
    assert not asks({"a.py": "def f():\n    pass\n", "b.py": "import a\na.f()\n"}, "DEAD_CODE")
    assert not asks({"a.py": "def f():\n    pass\n", "b.py": "from a import f\n"}, "DEAD_CODE")
    assert not asks({"a.py": 'def f():\n    pass\n__all__ = ["f"]\n'}, "DEAD_CODE")
    assert not asks({"a.py": "def f():\n    pass\n", "setup.cfg": "[x]\nrun = a:f\n"}, "DEAD_CODE")


def test_decorated_dunder_and_test_definitions_are_not_dead():
    files = {
        "a.py": "@app.route('/')\ndef view():\n    pass\nclass K:\n    def __repr__(self):\n        pass\nK()\n",
        "tests/test_a.py": "def test_x():\n    pass\n",
    }
    assert not asks(files, "DEAD_CODE")


def test_methods_of_framework_subclasses_are_not_dead():
    files = {
        "a.py": "from django.views import View\nclass V(View):\n    def get(self, request):\n        pass\n"
    }
    assert not asks(files, "DEAD_CODE")


def test_dynamic_dispatch_prefix_counts_as_use():
    src = "class W:\n    def visit_Call(self):\n        pass\n    def go(self, n):\n        getattr(self, 'visit_' + n)()\nW().go('x')\n"
    assert not asks({"a.py": src}, "DEAD_CODE")
    assert asks(
        {"a.py": src.replace("getattr(self, 'visit_' + n)", "getattr(other, n)")}, "DEAD_CODE", "visit_Call"
    )


def test_methods_of_classes_dispatching_on_computed_names_are_not_dead():
    src = "class F:\n    def format(self, c):\n        return getattr(self, c)()\n    def U(self):\n        pass\nF().format('U')\n"
    assert not asks({"a.py": src.replace("F().format('U')", "F().format(x)")}, "DEAD_CODE", "F.U")


def test_a_missing_submodule_imported_two_ways_is_one_question_owned_by_one_key():
    files = {"pkg/__init__.py": "", "pkg/a.py": "from pkg import gone\nimport pkg.gone\n"}
    store = batch(files)
    owners = [
        key for key, qs in store.by_key.items() for q in qs.values() if q.hypothesis == "MISSING_WIRING"
    ]
    assert owners == ["integration:import:pkg.gone"]
