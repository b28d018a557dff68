"""UNINITIALIZED_COMPONENT: self.x.method() where nothing ever sets self.x (monitors/components.py)."""

from tests.monitors.monitor_helpers import findings

SERVICE = """
class Service:
    def run(self):
        self.client.fetch()
"""
ASKED = ("UNINITIALIZED_COMPONENT", "symbol.svc.Service.client")
# nothing in these snippets uses Service; run's body is one statement: no docstring asked
UNUSED = [("DEAD_CODE", "symbol.svc.Service"), ("DEAD_CODE", "symbol.svc.Service.run")]
UNDOCUMENTED = ("MISSING_DOCSTRINGS", "module.svc")  # when run's body grows


def test_uninitialized_component():
    assert findings({"svc.py": SERVICE}) == [*UNUSED, ASKED]


def test_assignment_anywhere_in_the_class_counts():
    src = SERVICE + "    def connect(self):\n        self.client = make()\n"
    assert findings({"svc.py": src}) == [
        ("DEAD_CODE", "symbol.svc.Service"),
        ("DEAD_CODE", "symbol.svc.Service.connect"),
        ("DEAD_CODE", "symbol.svc.Service.run"),
    ]


def test_class_attribute_and_annotation_count_as_declarations():
    declared = SERVICE.replace("class Service:", "class Service:\n    client = None")
    assert findings({"svc.py": declared}) == UNUSED
    annotated = SERVICE.replace("class Service:", "class Service:\n    client: Client")
    assert findings({"svc.py": annotated}) == UNUSED


def test_project_base_class_declares_it():
    base = "class Base:\n    def __init__(self):\n        self.client = C()\n"
    files = {
        "base.py": base,
        "svc.py": "from base import Base\n" + SERVICE.replace("Service:", "Service(Base):"),
    }
    assert findings(files) == UNUSED


def test_unknown_base_class_may_declare_it():
    files = {"svc.py": "from django.views import View\n" + SERVICE.replace("Service:", "Service(View):")}
    assert findings(files) == []  # the framework may call or register it, too


def test_guards_and_outside_assignment_silence_it():
    guarded = SERVICE.replace(
        "self.client.fetch()", 'if hasattr(self, "client"):\n            self.client.fetch()'
    )
    assert findings({"svc.py": guarded}) == [*UNUSED, UNDOCUMENTED]
    assert findings({"svc.py": SERVICE, "wire.py": "service.client = Client()\n"}) == UNUSED


def test_subclass_that_declares_it_silences_the_base():
    files = {"svc.py": SERVICE + "class Real(Service):\n    def __init__(self):\n        self.client = C()\n"}
    # Real only fills in Service (its one method is __init__): no docstring asked of it, and
    # the module, Service and nothing else are undocumented (run is one statement)
    assert findings(files) == [
        ("DEAD_CODE", "symbol.svc.Real"),
        ("DEAD_CODE", "symbol.svc.Service.run"),
    ]
