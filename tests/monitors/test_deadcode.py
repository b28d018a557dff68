"""DEAD_CODE: definitions nothing in the tree refers to (monitors/deadcode.py)."""

from monitors.config import Config
from tests.monitors.monitor_helpers import findings


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
    assert findings(files) == []


def test_methods_of_framework_subclasses_are_not_dead():
    files = {
        "a.py": "from django.views import View\nclass V(View):\n    def get(self, request):\n        pass\n"
    }
    assert findings(files) == []


def test_dynamic_dispatch_prefix_counts_as_use():
    src = "class W:\n    def visit_Call(self):\n        pass\n    def go(self, n):\n        getattr(self, 'visit_' + n)()\nW().go('x')\n"
    assert findings({"a.py": src}) == []
    assert findings({"a.py": src.replace("getattr(self, 'visit_' + n)", "getattr(other, n)")}) == [
        ("DEAD_CODE", "symbol.a.W.visit_Call"),
    ]


def test_methods_of_classes_dispatching_on_computed_names_are_not_dead():
    src = "class F:\n    def format(self, c):\n        return getattr(self, c)()\n    def U(self):\n        pass\nF().format('U')\n"
    assert findings({"a.py": src.replace("F().format('U')", "F().format(x)")}) == []


# -- libraries keep public API; only private names are asked about --------------------

LIBRARY = Config(kind="library")
# django/shortcuts.py (5.2): public API nothing in the tree calls, and the private helper it uses
SHORTCUTS = '''
def _get_queryset(klass):
    if hasattr(klass, "_default_manager"):
        return klass._default_manager.all()
    return klass


async def aget_object_or_404(klass, *args, **kwargs):
    """See get_object_or_404()."""
    queryset = _get_queryset(klass)
    try:
        return await queryset.aget(*args, **kwargs)
    except queryset.model.DoesNotExist:
        raise Http404(f"No {queryset.model._meta.object_name} matches the given query.")
'''
# django/utils/_os.py (5.2): a public name in a private module, used only by Django's own tests
PRIVATE_MODULE = '''
def symlinks_supported():
    """Return whether or not creating symlinks are supported in the host platform."""
    with tempfile.TemporaryDirectory() as temp_dir:
        original_path = os.path.join(temp_dir, "original")
        symlink_path = os.path.join(temp_dir, "symlink")
        os.makedirs(original_path)
        try:
            os.symlink(original_path, symlink_path)
            supported = True
        except (OSError, NotImplementedError):
            supported = False
        return supported
'''
DJANGO = {"django/__init__.py": "", "django/shortcuts.py": SHORTCUTS, "django/utils/__init__.py": "",
          "django/utils/_os.py": PRIVATE_MODULE}  # fmt: skip


def test_a_library_keeps_its_public_names_and_asks_about_private_ones():
    assert findings(DJANGO, LIBRARY) == [("DEAD_CODE", "symbol.django.utils._os.symlinks_supported")]
    assert findings(
        {**DJANGO, "django/shortcuts.py": SHORTCUTS + "\ndef _unused():\n    pass\n"}, LIBRARY
    ) == [
        ("DEAD_CODE", "symbol.django.shortcuts._unused"),
        ("DEAD_CODE", "symbol.django.utils._os.symlinks_supported"),
    ]


def test_an_application_asks_about_every_unused_name():
    assert findings(DJANGO) == [
        ("DEAD_CODE", "symbol.django.shortcuts.aget_object_or_404"),
        ("DEAD_CODE", "symbol.django.utils._os.symlinks_supported"),
    ]


# -- names a dynamic lookup can build ----------------------------------------------------

# django/contrib/auth/models.py (5.2): the looked-up name is built with a prefix and a suffix
PERMISSIONS = """
def user_permissions(user, obj, from_name):
    permissions = set()
    name = "get_%s_permissions" % from_name
    for backend in auth.get_backends():
        if hasattr(backend, name):
            permissions.update(getattr(backend, name)(user, obj))
    return permissions
"""
BACKEND = """\"\"\"Authentication backends.\"\"\"
class ModelBackend:
    \"\"\"Authenticates against settings.AUTH_USER_MODEL.\"\"\"

    def get_all_permissions(self, user_obj, obj=None):
        return set()

    def get_user(self, user_id):
        return None
"""


def test_a_prefix_hides_only_the_names_looked_up_with_it():
    files = {
        "models.py": PERMISSIONS + "user_permissions(1, 2, 'all')\n",
        "backends.py": BACKEND + "ModelBackend()\n",
    }
    assert findings(files) == [("DEAD_CODE", "symbol.backends.ModelBackend.get_user")]


def test_a_prefix_string_that_is_not_looked_up_hides_nothing():
    # one "get_" string anywhere used to hide every unused get_* of the tree
    files = {"inspect_names.py": 'def getters(names):\n    return [n for n in names if n.startswith("get_")]\ngetters([])\n',
             "backends.py": BACKEND + "ModelBackend()\n"}  # fmt: skip
    assert findings(files) == [
        ("DEAD_CODE", "symbol.backends.ModelBackend.get_all_permissions"),
        ("DEAD_CODE", "symbol.backends.ModelBackend.get_user"),
    ]


def test_getattr_with_a_built_name_through_a_local_variable_or_fstring():
    visitor = 'def dispatch(node, visitor):\n    method = "visit_" + node.kind\n    return getattr(visitor, method)(node)\ndispatch(1, 2)\n'
    handlers = '"""Handlers."""\nclass H:\n    """Visits."""\n    def visit_Call(self):\n        pass\n    def other(self):\n        pass\nH()\n'
    assert findings({"v.py": visitor, "h.py": handlers}) == [("DEAD_CODE", "symbol.h.H.other")]
    fstring = 'def hook(obj, event):\n    return getattr(obj, f"visit_{event}", None)\nhook(1, 2)\n'
    assert findings({"v.py": fstring, "h.py": handlers}) == [("DEAD_CODE", "symbol.h.H.other")]


# -- templates and settings name things ------------------------------------------------

# django/contrib/admin/helpers.py and templates/admin/edit_inline/tabular.html (5.2)
HELPERS = """\"\"\"Admin helpers.\"\"\"
class InlineAdminFormSet:
    \"\"\"A wrapper around an inline formset for use in the admin system.\"\"\"

    def inline_formset_data(self):
        verbose_name = self.opts.verbose_name
        return json.dumps({"name": "#%s" % self.formset.prefix})

    @property
    def is_collapsible(self):
        if any(self.formset.errors):
            return False
        return "collapse" in self.classes
"""
TABULAR = """{% load i18n admin_urls static admin_modify %}
<div class="js-inline-admin-formset inline-group" id="{{ inline_admin_formset.formset.prefix }}-group"
     data-inline-type="tabular"
     data-inline-formset="{{ inline_admin_formset.inline_formset_data }}">
  {% if inline_admin_formset.is_collapsible %}<details><summary>{% endif %}
"""


def test_names_used_in_templates_are_used():
    files = {"admin/__init__.py": "", "admin/helpers.py": HELPERS + "InlineAdminFormSet()\n"}
    assert findings(files) == [
        ("DEAD_CODE", "symbol.admin.helpers.InlineAdminFormSet.inline_formset_data"),
        ("DEAD_CODE", "symbol.admin.helpers.InlineAdminFormSet.is_collapsible"),
    ]
    assert findings({**files, "admin/templates/admin/edit_inline/tabular.html": TABULAR}) == []


# -- registered and configured classes (docs/PRECISION.md round 1) ------------------------

# homeassistant 2025.4.4: config_entries.py and components/owntracks/config_flow.py, shortened
CONFIG_ENTRIES = '''"""Config entries."""
HANDLERS = Registry()
ConfigFlowResult = FlowResult


class ConfigFlow(ConfigEntryBaseFlow):
    """Base class for config and option flows."""

    def __init_subclass__(cls, *, domain: str | None = None, **kwargs: Any) -> None:
        """Initialize a subclass, register if possible."""
        super().__init_subclass__(**kwargs)
        if domain is not None:
            HANDLERS.register(domain)(cls)


class ConfigEntryBaseFlow:
    """Base flow."""
'''
OWNTRACKS = '''"""Config flow for OwnTracks."""
from homeassistant.config_entries import ConfigFlow, ConfigFlowResult

from .const import DOMAIN


class OwnTracksFlow(ConfigFlow, domain=DOMAIN):
    """Set up OwnTracks."""

    VERSION = 1
'''


# homeassistant/loader.py: integrations' platforms are imported by name
LOADER = '''"""Load integrations."""
BASE_PRELOAD_PLATFORMS = ["config", "config_flow", "diagnostics"]


class Integration:
    """An integration in Home Assistant."""

    def _import_platform(self, platform_name: str) -> ModuleType:
        """Import the platform."""
        return importlib.import_module(f"{self.pkg_path}.{platform_name}")
'''


def test_a_class_registered_by_subclassing_is_not_dead():
    files = {
        "homeassistant/loader.py": LOADER,
        "homeassistant/__main__.py": "from homeassistant.loader import Integration\nIntegration()._import_platform\n",
        "homeassistant/__init__.py": "",
        "homeassistant/config_entries.py": CONFIG_ENTRIES,
        "homeassistant/components/__init__.py": "",
        "homeassistant/components/owntracks/__init__.py": "",
        "homeassistant/components/owntracks/const.py": 'DOMAIN = "owntracks"\n',
        "homeassistant/components/owntracks/config_flow.py": OWNTRACKS,
    }
    assert findings(files) == []
    # the same registration by an in-tree base without the keyword: subclasses register themselves
    plain = OWNTRACKS.replace(", domain=DOMAIN", "")
    assert findings({**files, "homeassistant/components/owntracks/config_flow.py": plain}) == []


# pretix 2026.8.0: pretix/helpers/database.py, named in settings.py DATABASE_ROUTERS
ROUTER = '''"""Database helpers."""
class ReplicaRouter:

    def db_for_read(self, model, **hints):
        return 'default'

    def db_for_write(self, model, **hints):
        return 'default'

    def allow_relation(self, obj1, obj2, **hints):
        db_list = ('default', 'replica')
        if obj1._state.db in db_list and obj2._state.db in db_list:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hintrs):
        return True
'''


def test_methods_of_a_class_named_in_settings_are_the_frameworks_to_call():
    files = {"pretix/__init__.py": "", "pretix/helpers/__init__.py": "", "pretix/helpers/database.py": ROUTER}
    assert findings(files) == [
        ("DEAD_CODE", f"symbol.pretix.helpers.database.ReplicaRouter{name}")
        for name in ("", ".allow_migrate", ".allow_relation", ".db_for_read", ".db_for_write")
    ]
    settings = "DATABASE_ROUTERS = ['pretix.helpers.database.ReplicaRouter']\n"
    assert findings({**files, "pretix/settings.py": settings}) == []
