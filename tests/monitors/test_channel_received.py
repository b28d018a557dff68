"""Channels: a subscription whose topic arrives in a message lets clients consume any topic of that bus.

Each test compares the full sorted list of the channels monitor's (hypothesis, capability key),
from the real (trimmed) snippets that produced a false positive.
"""

from monitors.config import Config, Endpoint
from tests.monitors.test_channel_bases import BUS_CONFIG, CORE
from tests.monitors.test_channels import channels

# homeassistant/components/timer/__init__.py:409: fired for users' automations, no listener in the tree
TIMER = (
    "from ha.helpers.entity import Entity\n\nEVENT_TIMER_FINISHED = 'timer.finished'\n\n"
    "class Timer(Entity):\n    def _async_finished(self):\n"
    "        self.hass.bus.async_fire(EVENT_TIMER_FINISHED, {'entity_id': self.entity_id})\n"
)
# homeassistant/components/websocket_api/commands.py:149: a client subscribes to an event type of its choice
SUBSCRIBE = (
    "from ha.core import HomeAssistant\n\n"
    "def handle_subscribe_events(hass: HomeAssistant, connection, msg: dict) -> None:\n"
    "    event_type = msg['event_type']\n"
    "    connection.subscriptions[msg['id']] = hass.bus.async_listen(event_type, print)\n"
)


def test_an_event_clients_may_subscribe_to_by_name_is_not_orphaned():  # [user-event]
    files = {**CORE, "ha/components/timer.py": TIMER}
    assert channels(files, BUS_CONFIG) == [("ORPHANED_QUEUE", "channel.timer.finished")]
    assert channels({**files, "ha/components/websocket_api.py": SUBSCRIBE}, BUS_CONFIG) == []


def test_only_topics_of_the_bus_the_clients_subscribe_on():
    # the same received subscription on another bus says nothing about the EventBus's events
    config = Config(endpoints=(*BUS_CONFIG.endpoints, Endpoint("ha.hub.Hub.listen", "consumer", 0)))
    hub = "class Hub:\n    def listen(self, topic, cb):\n        pass\n\nHUB = Hub()\n"
    other = (
        "from ha.hub import HUB\n\ndef handle(connection, msg: dict) -> None:\n"
        "    topic = msg['topic']\n    HUB.listen(topic, print)\n"
    )
    files = {**CORE, "ha/components/timer.py": TIMER, "ha/hub.py": hub, "ha/components/other.py": other}
    assert channels(files, config) == [("ORPHANED_QUEUE", "channel.timer.finished")]


def test_a_topic_computed_here_is_no_client_choice():
    # msg is read but the topic is a constant of the tree: the subscription is an ordinary consumer
    subscribe = (
        "from ha.core import HomeAssistant\n\n"
        "def handle(hass: HomeAssistant, msg: dict) -> None:\n"
        "    kind = msg['kind']\n    hass.bus.async_listen('timer.started', print)\n"
    )
    files = {**CORE, "ha/components/timer.py": TIMER, "ha/components/ws.py": subscribe}
    assert channels(files, BUS_CONFIG) == [
        ("ORPHANED_CONSUMER", "channel.timer.started"),
        ("ORPHANED_QUEUE", "channel.timer.finished"),
    ]


def test_a_configured_endpoint_that_also_wraps_another_is_still_on_its_bus():
    # homeassistant/core.py: EventBus.async_fire passes its event type on to async_fire_internal,
    # also configured: the fire still happens on the EventBus the clients subscribe on
    core = (
        "class EventBus:\n    def async_fire(self, event_type, data=None):\n"
        "        self.async_fire_internal(event_type, data)\n\n"
        "    def async_fire_internal(self, event_type, data=None):\n        pass\n\n"
        "class HomeAssistant:\n    def __init__(self):\n        self.bus = EventBus(self)\n"
    )
    config = Config(
        endpoints=(*BUS_CONFIG.endpoints, Endpoint("ha.core.EventBus.async_fire_internal", "producer", 0))
    )
    files = {**CORE, "ha/core.py": core, "ha/components/timer.py": TIMER}
    assert channels(files, config) == [("ORPHANED_QUEUE", "channel.timer.finished")]
    assert channels({**files, "ha/components/websocket_api.py": SUBSCRIBE}, config) == []
