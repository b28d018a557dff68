from tests.monitors.monitor_helpers import findings, questions

STUB = 'def plan(x):\n    """Make a plan."""\n    raise NotImplementedError("later")\n'


def test_unimplemented_stub():
    assert findings({"a.py": STUB}) == [
        ("DEAD_CODE", "symbol.a.plan"),
        ("UNIMPLEMENTED_STUB", "symbol.a.plan"),
    ]


def test_methods_private_and_abstract_stubs_are_not_asked_about():
    files = {
        "a.py": "class Base:\n    def run(self):\n        raise NotImplementedError\n",
        "b.py": STUB.replace("def plan", "def _plan"),
        "c.py": "@abstractmethod\n" + STUB,
        "d.py": "def real(x):\n    if x:\n        raise NotImplementedError\n    return 1\n",
    }
    assert findings(files) == [  # none of them is called either
        ("DEAD_CODE", "symbol.a.Base"),
        ("DEAD_CODE", "symbol.a.Base.run"),
        ("DEAD_CODE", "symbol.b._plan"),
        ("DEAD_CODE", "symbol.d.real"),
    ]


def test_open_todo_one_question_per_file():
    files = {"a.py": "x = 1  # TODO: tune\n# FIXME broken on win\ny = 2\n"}
    assert findings(files) == [("OPEN_TODO", "module.a")]
    (todo,) = questions(files)
    assert todo.evidence == ("a.py:1", "a.py:2")


def test_todo_inside_strings_and_xxx_are_not_markers():
    assert findings({"a.py": 's = "`# TODO` in text"\n# XXX: emphasis\n'}) == []


# a scaffolding command: the TODO belongs to the code it writes, not to this module
SCAFFOLD = """\"\"\"Write a handler module for a new event.\"\"\"
HANDLER_TEMPLATE = '''
def handle_{name}(event):
    # TODO: implement {name}
    raise NotImplementedError
'''


def write_handler(path, name):
    \"\"\"Write it.\"\"\"
    path.write_text(HANDLER_TEMPLATE.format(name=name))  # FIXME: refuses to overwrite?
"""


def test_todo_inside_a_code_template_string_is_not_a_marker():
    found = [q for q in questions({"scaffold.py": SCAFFOLD}) if q.hypothesis == "OPEN_TODO"]
    assert [q.evidence for q in found] == [("scaffold.py:11",)]


def test_todo_questions_read_as_plain_english():
    one = questions({"one.py": "x = 1  # TODO: later\n"})
    two = questions({"two.py": "x = 1  # TODO: later\ny = 2  # FIXME: soon\n"})
    assert [q.question for q in one] == ["one.py has 1 open TODO marker. Is it still planned?"]
    assert [q.question for q in two] == ["two.py has 2 open FIXME/TODO markers. Are they still planned?"]


# homeassistant/loader.py declares the functions an integration module provides; improv_ble
# provides async_setup_entry only to say it cannot (its config flow never creates an entry)
LOADER = '''
class ComponentProtocol(Protocol):
    """Define the format of an integration."""

    async def async_setup_entry(self, hass: HomeAssistant, config_entry: ConfigEntry) -> bool:
        """Set up a config entry."""
'''
IMPROV_BLE = '''"""The Improv BLE integration."""
async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Set up improv_ble from a config entry."""
    raise NotImplementedError
'''


def test_a_stub_implementing_a_protocol_function_says_unsupported_not_unfinished():
    files = {"loader.py": LOADER + "ComponentProtocol()\n", "improv_ble.py": IMPROV_BLE}
    assert findings(files) == [("DEAD_CODE", "symbol.improv_ble.async_setup_entry")]
    other = {**files, "loader.py": LOADER.replace("(Protocol)", "(Base)") + "ComponentProtocol()\n"}
    assert findings(other) == [
        ("DEAD_CODE", "symbol.improv_ble.async_setup_entry"),
        ("UNIMPLEMENTED_STUB", "symbol.improv_ble.async_setup_entry"),
    ]
