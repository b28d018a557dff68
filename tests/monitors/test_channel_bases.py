"""Channels: objects a class inherits from bases defined in other modules of the tree.

Each test compares the full sorted list of the channels monitor's (hypothesis, capability key),
from the real (trimmed) snippets that produced a false positive.
"""

from monitors import MemoryStore, apply
from monitors.config import Config, Endpoint
from tests.monitors.monitor_helpers import batch, postings
from tests.monitors.test_channels import HYPOTHESES, channels

BUS_CONFIG = Config(
    endpoints=(
        Endpoint("ha.core.EventBus.async_fire", "producer", 0),
        Endpoint("ha.core.EventBus.async_listen", "consumer", 0),
    )
)
CORE = {
    "ha/__init__.py": "",
    "ha/core.py": "class EventBus:\n    def async_fire(self, event_type, data=None):\n        pass\n\n"
    "class HomeAssistant:\n    def __init__(self):\n        self.bus = EventBus(self)\n",
    # homeassistant/helpers/entity.py:444: the owning hass, set later by the platform
    "ha/helpers/__init__.py": "",
    "ha/helpers/entity.py": "from ha.core import HomeAssistant\n\n"
    "class Entity:\n    entity_id: str = None\n    hass: HomeAssistant = None  # type: ignore[assignment]\n",
    "ha/components/__init__.py": "",
    "ha/components/media_player/__init__.py": "from ha.helpers.entity import Entity\n\n"
    "class MediaPlayerEntity(Entity):\n    _attr_volume_level = None\n",
    "ha/components/kodi/__init__.py": "",
    "ha/components/kodi/const.py": 'EVENT_TURN_ON = "kodi.turn_on"\nEVENT_TURN_OFF = "kodi.turn_off"\n',
}
# homeassistant/components/kodi/device_trigger.py:105: the event's only listener in the tree
TRIGGER = (
    "from ha.core import HomeAssistant\nfrom .const import EVENT_TURN_OFF, EVENT_TURN_ON\n\n"
    "def _attach_trigger(hass: HomeAssistant, event_type):\n    return hass.bus.async_listen(event_type, print)\n\n"
    "def async_attach_trigger(hass: HomeAssistant, config):\n"
    "    if config == 'turn_on':\n        return _attach_trigger(hass, EVENT_TURN_ON)\n"
    "    return _attach_trigger(hass, EVENT_TURN_OFF)\n"
)


def test_a_bus_reached_through_an_attribute_a_base_class_of_another_module_declares():  # [unresolved-receiver]
    # homeassistant/components/kodi/media_player.py:659: self.hass is Entity.hass, two bases up
    player = (
        "from ha.components.media_player import MediaPlayerEntity\n"
        "from .const import EVENT_TURN_OFF, EVENT_TURN_ON\n\n"
        "class KodiEntity(MediaPlayerEntity):\n"
        "    async def async_turn_on(self) -> None:\n"
        "        self.hass.bus.async_fire(EVENT_TURN_ON, {'entity_id': self.entity_id})\n\n"
        "    async def async_turn_off(self) -> None:\n"
        "        self.hass.bus.async_fire(EVENT_TURN_OFF, {'entity_id': self.entity_id})\n"
    )
    files = {**CORE, "ha/components/kodi/device_trigger.py": TRIGGER}
    assert channels(files, BUS_CONFIG) == [
        ("ORPHANED_CONSUMER", "channel.kodi.turn_off"),
        ("ORPHANED_CONSUMER", "channel.kodi.turn_on"),
    ]
    files["ha/components/kodi/media_player.py"] = player
    assert channels(files, BUS_CONFIG) == []


def test_an_attribute_no_base_declares_stays_unknown():
    # the same call through an attribute nothing declares: no producer is made up
    player = (
        "from ha.components.media_player import MediaPlayerEntity\nfrom .const import EVENT_TURN_ON\n\n"
        "class KodiEntity(MediaPlayerEntity):\n"
        "    async def async_turn_on(self) -> None:\n        self.other.bus.async_fire(EVENT_TURN_ON, {})\n"
    )
    files = {
        **CORE,
        "ha/components/kodi/device_trigger.py": TRIGGER,
        "ha/components/kodi/media_player.py": player,
    }
    assert channels(files, BUS_CONFIG) == [
        ("ORPHANED_CONSUMER", "channel.kodi.turn_off"),
        ("ORPHANED_CONSUMER", "channel.kodi.turn_on"),
    ]


def test_an_annotated_class_attribute_of_the_same_module():
    src = (
        "from ha.core import HomeAssistant\n\n"
        "class Entity:\n    hass: HomeAssistant = None\n\n"
        "class Light(Entity):\n    def on(self):\n        self.hass.bus.async_fire('light.on')\n"
    )
    files = {**CORE, "ha/components/light.py": src}
    assert channels(files, BUS_CONFIG) == [("ORPHANED_QUEUE", "channel.light.on")]


def test_editing_the_base_module_re_asks_incrementally():
    # the subclass's question depends on keys another module posts (bases:, instance:): an edit
    # there must reach it, as a fresh batch scan of the edited tree says
    player = (
        "from ha.components.media_player import MediaPlayerEntity\nfrom .const import EVENT_TURN_OFF, EVENT_TURN_ON\n\n"
        "class KodiEntity(MediaPlayerEntity):\n    def on(self):\n        self.hass.bus.async_fire(EVENT_TURN_ON)\n"
        "    def off(self):\n        self.hass.bus.async_fire(EVENT_TURN_OFF)\n"
    )
    files = {
        **CORE,
        "ha/components/kodi/device_trigger.py": TRIGGER,
        "ha/components/kodi/media_player.py": player,
    }
    store = MemoryStore()
    for path, source in files.items():
        apply(store, path, postings(path, source, BUS_CONFIG), BUS_CONFIG)
    assert asked(store) == asked(batch(files, BUS_CONFIG, dedent=False)) == {}
    edits = {
        "ha/helpers/entity.py": "from ha.core import HomeAssistant\n\nclass Entity:\n    entity_id: str = None\n",
        "ha/components/media_player/__init__.py": "class MediaPlayerEntity:\n    pass\n",
    }
    for path, source in edits.items():
        changed = {**files, path: source}
        store = MemoryStore()
        for p, s in files.items():
            apply(store, p, postings(p, s, BUS_CONFIG), BUS_CONFIG)
        apply(store, path, postings(path, source, BUS_CONFIG), BUS_CONFIG)
        expected = asked(batch(changed, BUS_CONFIG, dedent=False))
        assert sorted(q.capability_key for q in expected.values()) == [
            "channel.kodi.turn_off",
            "channel.kodi.turn_on",
        ]
        assert asked(store) == expected


def asked(store: MemoryStore) -> dict:
    """The channels monitor's questions of a store, by id."""
    return {i: q for i, q in store.all_questions().items() if q.hypothesis in HYPOTHESES}
