"""DEAD_CODE: definitions whose callers are outside the tree by construction (precision round 3).

Each snippet is the real code (trimmed) of a false positive read on pretix 2026.8.0 or Home
Assistant 2025.4.4 (docs/precision/*.tsv), next to a variant that must still be asked.
"""

from monitors.config import Config
from tests.monitors.monitor_helpers import findings

APPLICATION = Config(kind="application")

# pretix/testutils/queries.py: a helper of the test suites (pretix's and its plugins'), which
# the wheel does not ship
QUERIES = """
def assert_num_queries(num, func=None, *args, **kwargs):
    using = kwargs.pop("using", DEFAULT_DB_ALIAS)
    return _AssertNumQueriesContext(num, connections[using])


def _unused_private():
    pass
"""


def test_public_helpers_of_a_test_support_package_are_for_test_suites():
    files = {
        "pretix/__init__.py": "",
        "pretix/testutils/__init__.py": "",
        "pretix/testutils/queries.py": QUERIES,
    }
    assert findings(files, APPLICATION) == [("DEAD_CODE", "symbol.pretix.testutils.queries._unused_private")]
    moved = {"pretix/__init__.py": "", "pretix/base/__init__.py": "", "pretix/base/queries.py": QUERIES}
    assert findings(moved, APPLICATION) == [
        ("DEAD_CODE", "symbol.pretix.base.queries._unused_private"),
        ("DEAD_CODE", "symbol.pretix.base.queries.assert_num_queries"),
    ]


# homeassistant/util/network.py: the application's toolbox, imported by custom integrations
NETWORK = '''"""Network utilities."""
def is_ipv4_address(address: str) -> bool:
    """Check if a given string is an IPv4 address."""
    return True


def is_ipv6_address(address: str) -> bool:
    """Check if a given string is an IPv6 address."""
    return True
'''


def test_public_names_of_an_applications_toolbox_package_are_api():
    files = {
        "homeassistant/__init__.py": "",
        "homeassistant/__main__.py": "from homeassistant import core\n",
        "homeassistant/core.py": "from homeassistant.util.network import is_ipv4_address\n",
        "homeassistant/util/__init__.py": "",
        "homeassistant/util/network.py": NETWORK,
        "homeassistant/helpers/__init__.py": "",
        "homeassistant/helpers/network.py": NETWORK.replace("is_", "_is_"),
    }
    assert findings(files, APPLICATION) == [
        ("DEAD_CODE", "symbol.homeassistant.helpers.network._is_ipv4_address"),
        ("DEAD_CODE", "symbol.homeassistant.helpers.network._is_ipv6_address"),
    ]
    # a util module of one integration is no toolbox of the application (group/util.py states_equal)
    nested = {
        "homeassistant/__init__.py": "",
        "homeassistant/components/__init__.py": "",
        "homeassistant/components/group/__init__.py": "from .util import is_ipv4_address\n",
        "homeassistant/components/group/util.py": NETWORK,
    }
    assert findings(nested, APPLICATION) == [
        ("DEAD_CODE", "symbol.homeassistant.components.group.util.is_ipv6_address")
    ]


# pretix/base/datasync/datasync.py: the base class plugins subclass (its methods' docstrings
# say what implementations override); pretix ships no provider
SYNC = '''
class OutboundSyncProvider:
    max_attempts = 5

    def __init__(self, event):
        self.event = event

    @property
    def mappings(self):
        """
        Implementations must override this property to provide the data mappings as a list of objects.
        """
        raise NotImplementedError

    def sync_order(self, order):
        return self.mappings
'''
# pretix/base/payment.py: documented as the base class for (plugins') historical providers
HISTORICAL = '''
class BaseHistoricalPaymentProvider(BasePaymentProvider):
    """
    Base class for payment providers that no longer exist but can't be deleted to make sure historical
    payments are shown correctly.

    Subclasses are recommended to only implement:
        - identifier
    """

    def is_allowed(self, request, total=None) -> bool:
        return False
'''


def test_a_base_class_documented_for_subclasses_is_an_extension_point():
    files = {"sync.py": SYNC, "payment.py": HISTORICAL + "\nclass BasePaymentProvider:\n    pass\n"}
    methods = [  # their own use is another question
        ("DEAD_CODE", "symbol.payment.BaseHistoricalPaymentProvider.is_allowed"),
        ("DEAD_CODE", "symbol.sync.OutboundSyncProvider.sync_order"),
    ]
    assert findings(files, APPLICATION) == methods
    plain = {"sync.py": SYNC.replace("Implementations must override", "The")}
    assert findings(plain, APPLICATION) == [
        ("DEAD_CODE", "symbol.sync.OutboundSyncProvider"),
        ("DEAD_CODE", "symbol.sync.OutboundSyncProvider.sync_order"),
    ]


# pretix/presale/signals.py (attribute docstring of a plugin signal) and presale/cookies.py
SIGNALS = '''
register_cookie_providers = EventPluginSignal()
"""
Arguments: ``request``

This signal is sent out to get all cookie providers that could set a cookie on this page, regardless of
consent state. Receivers should return a list of ``pretix.presale.cookies.CookieProvider`` objects.
"""

process_request = EventPluginSignal()
"""
Most of the time, this will be called from the middleware layer (except on plugin-provided pages
this will be called by the @event_view decorator).
"""
'''
COOKIES = """\"\"\"Cookies.\"\"\"
class CookieProvider:
    def __init__(self, identifier: str):
        self.identifier = identifier


def event_view(function=None, require_live=True):
    warnings.warn('The event_view decorator is deprecated', DeprecationWarning, stacklevel=2)
    return function
"""


def test_names_the_documentation_shows_are_used():
    files = {"pretix/__init__.py": "", "pretix/presale/__init__.py": "", "pretix/presale/cookies.py": COOKIES}
    assert findings(files, APPLICATION) == [
        ("DEAD_CODE", "symbol.pretix.presale.cookies.CookieProvider"),
        ("DEAD_CODE", "symbol.pretix.presale.cookies.event_view"),
    ]
    assert findings({**files, "pretix/presale/signals.py": SIGNALS}, APPLICATION) == []


# pretix/base/datasync/utils.py: the docstring's example is the plugin-side call
TRANSLATE = '''
def translate_property_mappings(property_mappings, checkin_list_map):
    """
    Users of data fields need to register to the event_copy_data signal and translate all stored
    references to those fields using this method.

    .. code-block:: python

        @receiver(signal=event_copy_data, dispatch_uid="my_sync_event_copy_data")
        def event_copy_data_receiver(sender, other, checkin_list_map, **kwargs):
            for om in other.my_object_mappings.all():
                om.property_mappings = translate_property_mappings(om.property_mappings, checkin_list_map)
                om.save()
    """
    return [m for m in property_mappings]
'''


def test_a_call_in_a_docstring_example_is_a_use():
    assert findings({"utils.py": TRANSLATE}, APPLICATION) == []
    prose = TRANSLATE.replace(".. code-block:: python", "For example")
    assert findings({"utils.py": prose}, APPLICATION) == [
        ("DEAD_CODE", "symbol.utils.translate_property_mappings")
    ]


# pretix/base/email.py: a mixin put before smtplib.SMTP overrides the method smtplib calls
EMAIL = """
import smtplib


class CheckPrivateNetworkMixin:
    # _get_socket taken 1:1 from smtplib, just with a call to our own create_connection
    def _get_socket(self, host, port, timeout):
        return create_connection((host, port), timeout, self.source_address)


class SMTP(CheckPrivateNetworkMixin, smtplib.SMTP):
    pass


connection_class = SMTP
"""


def test_a_mixin_put_before_a_base_from_outside_overrides_its_methods():
    assert findings({"email.py": EMAIL}, APPLICATION) == []
    # before a base of the tree, the mixin's method overrides nothing outside
    local = EMAIL.replace("import smtplib", "class Local:\n    pass").replace("smtplib.SMTP", "Local")
    assert findings({"email.py": local}, APPLICATION) == [
        ("DEAD_CODE", "symbol.email.CheckPrivateNetworkMixin._get_socket")
    ]


# pretix/control/forms/event.py: clean_<field> of the field the method reads, called by name
# by the form machinery (Django's forms, outside the tree)
FORMS = """\"\"\"Forms.\"\"\"
class EventSettingsValidationMixin:

    def clean_invoice_address_from_vat_id(self):
        value = self.cleaned_data.get('invoice_address_from_vat_id')
        country = self.cleaned_data.get('invoice_address_from_country')
        if value and country and country not in VAT_ID_COUNTRIES:
            return None
        return value


class EventSettingsForm(EventSettingsValidationMixin):
    pass


EventSettingsForm()
"""


def test_a_method_named_after_the_key_it_handles_is_a_per_key_hook():
    assert findings({"forms.py": FORMS}, APPLICATION) == []
    other = FORMS.replace("get('invoice_address_from_vat_id')", "get('vat_id_value')")
    assert findings({"forms.py": other}, APPLICATION) == [
        ("DEAD_CODE", "symbol.forms.EventSettingsValidationMixin.clean_invoice_address_from_vat_id")
    ]


# homeassistant/helpers/condition.py: factories looked up by a module-level format template
CONDITION = '''
ASYNC_FROM_CONFIG_FORMAT = "async_{}_from_config"
FROM_CONFIG_FORMAT = "{}_from_config"


async def async_from_config(hass, config):
    """Turn a condition configuration into a method."""
    condition = config.get(CONF_CONDITION)
    for fmt in (ASYNC_FROM_CONFIG_FORMAT, FROM_CONFIG_FORMAT):
        factory = getattr(sys.modules[__name__], fmt.format(condition), None)
    return factory


def sun_from_config(config):
    """Wrap action method with sun based condition."""
    return config


def sun_checker(config):
    return config
'''


def test_a_name_built_from_a_format_template_constant_is_looked_up():
    assert findings({"condition.py": CONDITION + "async_from_config(1, 2)\n"}, APPLICATION) == [
        ("DEAD_CODE", "symbol.condition.sun_checker")
    ]


# homeassistant/util/aiohttp.py: a stand-in for aiohttp's payload writer, which aiohttp calls
AIOHTTP = '''
class MockPayloadWriter:
    """Small mock to imitate payload writer."""

    def enable_chunking(self) -> None:
        """Enable chunking."""

    async def write_headers(self, *args: Any, **kwargs: Any) -> None:
        """Write headers."""


_MOCK_PAYLOAD_WRITER = MockPayloadWriter()
'''


def test_the_methods_of_a_test_double_are_called_by_what_it_stands_in_for():
    assert findings({"aio.py": AIOHTTP}, APPLICATION) == []
    real = AIOHTTP.replace("MockPayloadWriter", "PayloadWriter")
    assert findings({"aio.py": real}, APPLICATION) == [
        ("DEAD_CODE", "symbol.aio.PayloadWriter.enable_chunking"),
        ("DEAD_CODE", "symbol.aio.PayloadWriter.write_headers"),
    ]


# pretix/base/datasync/utils.py: documented for the API reference of sync-provider plugins
PROPERTIES = '''
def assign_properties(new_values, old_values: dict, is_new, list_sep):
    """
    Generates a dictionary mapping property keys to new values, handling conditional overwrites and list updates
    according to an update mode specified per property.

    :param new_values: List of tuples, where each tuple contains (field_name, new_value, update_mode).
    :param old_values: Dictionary, current property values in the external system.
    :returns: A dictionary containing the properties that need to be updated in the external system.
    """
    return dict(new_values)
'''


def test_a_function_documented_for_an_api_reference_is_api():
    assert findings({"utils.py": PROPERTIES}, APPLICATION) == []
    prose = PROPERTIES.replace(":param ", "").replace(":returns:", "Returns")
    assert findings({"utils.py": prose}, APPLICATION) == [("DEAD_CODE", "symbol.utils.assign_properties")]


def test_a_class_that_only_describes_itself_as_a_subclass_or_override_is_still_asked():
    described = '''
class OrderedRegistry(dict):
    """A subclass of dict that remembers the order of registration."""

    def save(self):
        """Override save to also log the change."""
        return self
'''
    assert findings({"registry.py": described}, APPLICATION) == [
        ("DEAD_CODE", "symbol.registry.OrderedRegistry"),
        ("DEAD_CODE", "symbol.registry.OrderedRegistry.save"),
    ]
