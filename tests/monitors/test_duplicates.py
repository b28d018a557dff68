"""DUPLICATE_RESPONSIBILITY: the same body in several modules (monitors/duplicates.py)."""

from tests.monitors.monitor_helpers import findings, questions

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
    assert findings(files) == [
        ("DEAD_CODE", "symbol.a.f"),
        ("DEAD_CODE", "symbol.b.g"),
        ("DUPLICATE_RESPONSIBILITY", "symbol.a.f"),
    ]


def test_different_attributes_or_tiny_bodies_are_not_duplicates():
    other = BODY.format(name="g", item="y").replace(".size", ".weight")
    dead = [("DEAD_CODE", "symbol.a.f"), ("DEAD_CODE", "symbol.b.g")]
    assert findings({"a.py": BODY.format(name="f", item="x"), "b.py": other}) == dead
    tiny = "def f(self):\n    return self.x\n"
    assert findings({"a.py": tiny, "b.py": tiny}) == [
        ("DEAD_CODE", "symbol.a.f"),
        ("DEAD_CODE", "symbol.b.f"),
    ]


def test_cloned_class_is_one_question_not_one_per_method():
    cls = "class K:\n" + "\n".join("    " + line for line in BODY.format(name="m", item="i").splitlines())
    cls = cls.replace("(items", "(self, items")
    assert findings({"a.py": cls, "b.py": cls}) == [
        ("DEAD_CODE", "symbol.a.K"),
        ("DEAD_CODE", "symbol.a.K.m"),
        ("DEAD_CODE", "symbol.b.K"),
        ("DEAD_CODE", "symbol.b.K.m"),
        ("DUPLICATE_RESPONSIBILITY", "symbol.a.K"),
        ("MISSING_DOCSTRINGS", "module.a"),
        ("MISSING_DOCSTRINGS", "module.b"),
    ]


# django/db/backends/{oracle,postgresql}/operations.py (5.2): the same shape, different SQL
SUBTRACT = '''"""Operations."""
class DatabaseOperations(BaseDatabaseOperations):
    """Database operations."""

    def subtract_temporals(self, internal_type, lhs, rhs):
        """Subtract."""
        if internal_type == "DateField":
            lhs_sql, lhs_params = lhs
            rhs_sql, rhs_params = rhs
            params = (*lhs_params, *rhs_params)
            return (SQL % (lhs_sql, rhs_sql), params)
        return super().subtract_temporals(internal_type, lhs, rhs)
'''
ORACLE = SUBTRACT.replace("SQL", '''"NUMTODSINTERVAL(TO_NUMBER(%s - %s), 'DAY')"''')
POSTGRES = SUBTRACT.replace("SQL", '''"(interval '1 day' * (%s - %s))"''')


def test_bodies_with_different_constants_are_not_clones():
    files = {"oracle/operations.py": ORACLE, "postgresql/operations.py": POSTGRES}
    assert findings(files) == []
    assert findings({**files, "mysql/operations.py": ORACLE}) == [
        ("DUPLICATE_RESPONSIBILITY", "symbol.mysql.operations.DatabaseOperations")
    ]


# django/utils/inspect.py (5.2), vendored whole into two places
INSPECT = '''"""Inspection helpers."""
import functools
import inspect


@functools.lru_cache(maxsize=512)
def _get_func_parameters(func, remove_first):
    parameters = tuple(inspect.signature(func).parameters.values())
    if remove_first:
        parameters = parameters[1:]
    return parameters


def _get_callable_parameters(meth_or_func):
    is_method = inspect.ismethod(meth_or_func)
    func = meth_or_func.__func__ if is_method else meth_or_func
    return _get_func_parameters(func, remove_first=is_method)


def get_func_args(func):
    """Positional and keyword parameter names."""
    params = _get_callable_parameters(func)
    return [
        param.name
        for param in params
        if param.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]


def func_accepts_kwargs(func):
    """Return True if function 'func' accepts keyword arguments **kwargs."""
    return any(p for p in _get_callable_parameters(func) if p.kind == p.VAR_KEYWORD)


def method_has_no_args(meth):
    """Return True if a method only accepts 'self'."""
    count = len([p for p in _get_callable_parameters(meth) if p.kind == p.POSITIONAL_OR_KEYWORD])
    return count == 0 if inspect.ismethod(meth) else count == 1
'''
USERS = "from app.vendor.inspect import get_func_args, func_accepts_kwargs, method_has_no_args\nimport lib.inspect\n"


def test_a_file_copied_whole_is_one_question_for_the_pair_of_files():
    files = {"app/vendor/inspect.py": INSPECT, "lib/inspect.py": INSPECT, "main.py": USERS}
    assert findings(files) == [("DUPLICATE_RESPONSIBILITY", "module.app.vendor.inspect")]
    (question,) = [q for q in questions(files) if q.hypothesis == "DUPLICATE_RESPONSIBILITY"]
    assert question.evidence == ("app/vendor/inspect.py:1", "lib/inspect.py:1")


def test_a_module_sharing_one_function_with_a_copied_file_hears_about_it_once():
    two = BODY.format(name="f", item="x") + BODY.format(name="g", item="y").replace(".size", ".weight")
    files = {
        "a.py": two,
        "b.py": two,
        "c.py": BODY.format(name="h", item="z"),
        "main.py": "from a import f, g\nfrom b import f, g\nfrom c import h\n",
    }
    assert findings(files) == [
        ("DUPLICATE_RESPONSIBILITY", "module.a"),  # a.py and b.py
        ("DUPLICATE_RESPONSIBILITY", "symbol.a.f"),  # a.f standing for b.f too, and c.h
        ("MISSING_DOCSTRINGS", "module.a"),
        ("MISSING_DOCSTRINGS", "module.b"),
    ]
    (shared,) = [q for q in questions(files) if q.capability_key == "symbol.a.f"]
    assert shared.evidence == ("a.py:2", "c.py:2")


# homeassistant/components/{geofency,gpslogger}/__init__.py (2025.4): the integration scaffold's
# unload hook, each popping its own DOMAIN's data and unloading its own PLATFORMS
UNLOAD = '''"""The {domain} integration."""
from homeassistant.components import webhook
from homeassistant.const import CONF_WEBHOOK_ID, Platform

from .const import DOMAIN

PLATFORMS = [Platform.{platform}]


async def async_unload_entry(hass, entry):
    """Unload a config entry."""
    webhook.async_unregister(hass, entry.data[CONF_WEBHOOK_ID])
    hass.data[DOMAIN]["unsub_device_tracker"].pop(entry.entry_id)()
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
'''
CONST = '"""Constants."""\nDOMAIN = "{domain}"\n'


def test_module_constants_count_by_value_and_origin():
    def tree(*modules: str, platform: str = "DEVICE_TRACKER") -> dict[str, str]:
        files = {"main.py": "".join(f"from {m} import async_unload_entry\n" for m in modules)}
        for module in modules:
            domain = module.split(".")[1]
            files[module.replace(".", "/") + ".py"] = UNLOAD.format(domain=domain, platform=platform)
            files[f"components/{domain}/const.py"] = CONST.format(domain=domain)
        return files

    # each imports its own DOMAIN: the same shape configured twice, no question
    assert findings(tree("components.geofency.hooks", "components.gpslogger.hooks")) == []
    # two modules of one plugin sharing its DOMAIN and an equal PLATFORMS are clones
    assert findings(tree("components.geofency.hooks", "components.geofency.other")) == [
        ("DUPLICATE_RESPONSIBILITY", "symbol.components.geofency.hooks.async_unload_entry")
    ]
    # ... and are not when the other module's PLATFORMS is bound to another list
    files = tree("components.geofency.hooks", "components.geofency.other")
    files["components/geofency/other.py"] = files["components/geofency/other.py"].replace(
        "DEVICE_TRACKER", "SENSOR"
    )
    assert findings(files) == []


# homeassistant/components/{bthome,xiaomi_ble}/const.py (2025.4), trimmed: a record's fields
# are what it is; two records of the same types and different fields are not one
EVENT = '''
class {name}(TypedDict):
    """Event data."""

    device_id: str
    {field}: str
    event_class: str
    event_type: str
    event_properties: dict[str, str | int | float | None] | None
'''


def test_a_class_body_binds_attributes_by_name():
    files = {
        "bthome/const.py": EVENT.format(name="BTHomeBleEvent", field="address"),
        "xiaomi_ble/const.py": EVENT.format(name="XiaomiBleEvent", field="mac"),
        "main.py": "from bthome.const import BTHomeBleEvent\nfrom xiaomi_ble.const import XiaomiBleEvent\n",
    }
    assert findings(files) == []
    files["xiaomi_ble/const.py"] = EVENT.format(name="XiaomiBleEvent", field="address")
    assert findings(files) == [("DUPLICATE_RESPONSIBILITY", "symbol.bthome.const.BTHomeBleEvent")]


# homeassistant/components/{braviatv,lg_netcast}/config_flow.py (2025.4), trimmed: the host step
# every network integration's config flow has; components/ holds nothing but the integrations,
# and the framework imports them by name
HOST_STEP = '''"""Config flow for {domain}."""
import voluptuous as vol

from homeassistant.config_entries import ConfigFlow
from homeassistant.const import CONF_HOST
from homeassistant.helpers.network import is_host_valid


class {name}(ConfigFlow):
    """Handle a config flow."""

    async def async_step_user(self, user_input=None):
        """Handle the initial step."""
        errors = {{}}
        if user_input is not None:
            host = user_input[CONF_HOST]
            if is_host_valid(host):
                self.device_config[CONF_HOST] = host
                return await self.async_step_authorize()
            errors[CONF_HOST] = "invalid_host"
        return self.async_show_form(
            step_id="user", data_schema=vol.Schema({{vol.Required(CONF_HOST): str}}), errors=errors
        )
{more}'''
LOADER = '"""Loads integrations by name."""\nimport importlib\n\n\ndef load(domain):\n    """Import one."""\n    return importlib.import_module(f"components.{domain}.config_flow")\n'


def test_small_copies_in_independent_plugins_are_scaffolding():
    def plugin(domain: str, name: str, more: str = "") -> dict[str, str]:
        return {
            f"components/{domain}/__init__.py": f'"""The {domain} integration."""\n',
            f"components/{domain}/config_flow.py": HOST_STEP.format(domain=domain, name=name, more=more),
        }

    dead = [("DEAD_CODE", "symbol.loader.load")]
    tree = {"components/__init__.py": "", "loader.py": LOADER}
    files = {**tree, **plugin("braviatv", "BraviaTVConfigFlow"), **plugin("lg_netcast", "LGNetCast")}
    assert findings(files) == dead
    question = [("DUPLICATE_RESPONSIBILITY", "symbol.components.braviatv.config_flow.BraviaTVConfigFlow")]
    # a plugin another module imports is a library; a folder with a module of its own has a home
    # for shared code; two copies inside one plugin are that plugin's duplicate
    assert findings({**files, "main.py": "import components.braviatv\n"}) == sorted(dead + question)
    # ... but its own tests importing it do not make it one
    assert findings({**files, "tests/test_braviatv.py": "import components.braviatv\n"}) == dead
    assert findings({**files, "components/util.py": '"""Shared helpers."""\n'}) == sorted(dead + question)
    copy = {"components/braviatv/other.py": HOST_STEP.format(domain="x", name="Other", more="")}
    assert findings({**files, **copy}) == sorted(dead + question)
    # a large copy (a fork) is asked about wherever it is
    big = "\n    def validate(self, items):\n" + "".join(f"        self.check{i}(items)\n" for i in range(10))
    big_files = {
        **tree,
        **plugin("braviatv", "BraviaTVConfigFlow", big),
        **plugin("lg_netcast", "LGNetCast", big),
    }
    assert findings(big_files) == sorted(dead + question)


# django/contrib/contenttypes/fields.py and db/models/fields/related_descriptors.py (5.2),
# trimmed: the same deprecation shim in three classes, each deleted when the warning's release
# comes, not shared
SHIM = """import warnings

from django.utils.deprecation import RemovedInDjango60Warning


class {cls}:
    def get_prefetch_queryset(self, instances, queryset=None):
        warnings.warn(
            "get_prefetch_queryset() is deprecated. Use get_prefetch_querysets() instead.",
            RemovedInDjango60Warning,
            stacklevel=2,
        )
        if queryset is None:
            return self.get_prefetch_querysets(instances)
        return self.get_prefetch_querysets(instances, [queryset])

    def get_prefetch_querysets(self, instances, querysets=None):
        return {result}
"""


def test_copies_of_a_deprecation_shim_are_not_a_shared_responsibility():
    files = {
        "fields.py": SHIM.format(cls="GenericForeignKey", result="instances, querysets"),
        "descriptors.py": SHIM.format(cls="ForwardManyToOneDescriptor", result="list(instances)"),
    }
    assert [f for f in findings(files) if f[0] == "DUPLICATE_RESPONSIBILITY"] == []
    # the same body without the warning is a copy to share
    plain = {
        name: source.replace("RemovedInDjango60Warning,", "UserWarning,") for name, source in files.items()
    }
    assert [f for f in findings(plain) if f[0] == "DUPLICATE_RESPONSIBILITY"] == [
        ("DUPLICATE_RESPONSIBILITY", "symbol.descriptors.ForwardManyToOneDescriptor.get_prefetch_queryset")
    ]
