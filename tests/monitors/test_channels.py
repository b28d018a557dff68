"""Channels: endpoints found by what the receiver is, topics the way real code writes them.

Each test compares the full sorted list of the channels monitor's (hypothesis, capability key).
"""

from pathlib import Path

from monitors.config import DEFAULT, Config, Endpoint
from tests.monitors.monitor_helpers import findings, questions

HYPOTHESES = {"ORPHANED_QUEUE", "ORPHANED_CONSUMER"}


def channels(files: dict[str, str], config: Config = DEFAULT) -> list[tuple[str, str]]:
    """The full sorted list of the channels monitor's findings (the other monitors have their tests)."""
    return [found for found in findings(files, config) if found[0] in HYPOTHESES]


PUB = "from bus import ChemPub\n"
SUB = "from bus import ChemSub\n"

# -- the ChemBus API, wherever ChemPub and ChemSub come from ---------------------------


def test_chempub_imported_from_outside_the_tree_is_a_producer():  # no bus module in the tree
    assert channels({"a.py": PUB + 'ChemPub().emit("t.x")\n'}) == [("ORPHANED_QUEUE", "channel.t.x")]


def test_chemsub_resolves_it_positionally_or_by_keyword():
    producer = {"a.py": PUB + 'ChemPub().emit("t.x")\nChemPub().emit(signal="t.y")\n'}
    assert channels({**producer, "b.py": SUB + 'ChemSub("t.x", on_x)\nChemSub(topic="t.y")\n'}) == []
    assert channels({"b.py": SUB + 'ChemSub("t.lonely", cb)\n'}) == [
        ("ORPHANED_CONSUMER", "channel.t.lonely")
    ]


def test_classes_defined_in_the_tree_count_too():
    bus = "class ChemPub:\n    def emit(self, signal, **facts):\n        pass\n"
    assert channels({"bus.py": bus, "a.py": PUB + 'ChemPub().emit("t.x")\n'}) == [
        ("ORPHANED_QUEUE", "channel.t.x")
    ]
    assert channels({"a.py": bus + 'ChemPub().emit("t.x")\n'}) == [("ORPHANED_QUEUE", "channel.t.x")]


def test_import_fallbacks_resolve():
    src = """
    try:
        from kloros.orchestration.chem_bus_v2 import ChemPub
    except ImportError:
        from bus import ChemPub
    ChemPub().emit("t.x")
    """
    assert channels({"a.py": src}) == [("ORPHANED_QUEUE", "channel.t.x")]


def test_this_projects_chembus_api():
    producer = """
    from kloros_site.chembus import Publisher, publish
    publish(None, "curiosity.a", envelope)
    with Publisher() as pub:
        pub.publish("curiosity.b", envelope)
    """
    assert channels({"p.py": producer}) == [
        ("ORPHANED_QUEUE", "channel.curiosity.a"),
        ("ORPHANED_QUEUE", "channel.curiosity.b"),
    ]
    consumer = (
        'from kloros_site.chembus import ChemSub\nfor e in ChemSub("curiosity.*", name="core"):\n    pass\n'
    )
    assert channels({"p.py": producer, "c.py": consumer}) == []
    assert channels(
        {"c.py": 'from kloros_site.chembus import ChemSub\nChemSub(pattern="curiosity.c")\n'}
    ) == [("ORPHANED_CONSUMER", "channel.curiosity.c")]


def test_the_seeds_own_daemon():  # chem_pub.publish(signal=...) and ChemSub().subscribe(pattern)
    daemon = """
    from kloros.orchestration.chem_bus_v2 import ChemPub

    class IntegrationMonitorDaemon:
        def __init__(self):
            self.chem_pub = ChemPub()

        def _detect_and_emit_issues(self):
            self.chem_pub.publish(signal='curiosity.integration_question', payload={})
    """
    core = "from kloros.orchestration.chem_bus_v2 import ChemSub\nfor s, p in ChemSub().subscribe('curiosity.*'):\n    pass\n"
    assert channels({"daemon.py": daemon}) == [("ORPHANED_QUEUE", "channel.curiosity.integration_question")]
    assert channels({"daemon.py": daemon, "core.py": core}) == []


def test_a_subclass_of_chempub_publishes_in_its_module_and_elsewhere():
    files = {
        "app/__init__.py": "",
        "app/bus.py": PUB + "class AppBus(ChemPub):\n    pass\n\nAppBus().emit('t.here')\n",
        "app/use.py": "from app.bus import AppBus\nAppBus().emit('t.there')\n",
    }
    assert channels(files) == [("ORPHANED_QUEUE", "channel.t.here"), ("ORPHANED_QUEUE", "channel.t.there")]


def test_the_readme_example():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    example = next(block for block in readme.split("```python\n")[1:] if "curiosity.demo" in block)
    example = example.split("```")[0]
    assert channels({"demo.py": example}) == [("ORPHANED_QUEUE", "channel.curiosity.demo")]
    assert channels({"demo.py": example, "core.py": SUB + 'ChemSub("curiosity.*", on_demo)\n'}) == []


# -- receivers: module-level objects, attributes, constructor calls, imports -----------


def test_module_level_instance():
    assert channels({"a.py": PUB + 'bus = ChemPub()\nbus.emit("t.x")\n'}) == [
        ("ORPHANED_QUEUE", "channel.t.x")
    ]


def test_attribute_set_in_init_used_in_a_method_defined_before_it():
    src = PUB + (
        "class Svc:\n"
        "    def run(self):\n"
        '        self.pub.emit("t.x")\n'
        "    def __init__(self):\n"
        "        self.pub = ChemPub()\n"
    )
    assert channels({"a.py": src}) == [("ORPHANED_QUEUE", "channel.t.x")]


def test_annotated_parameter_is_a_receiver():
    src = PUB + "class Svc:\n    def __init__(self, pub: ChemPub):\n        pub.emit('t.x')\n"
    assert channels({"a.py": src}) == [("ORPHANED_QUEUE", "channel.t.x")]


def test_instance_imported_from_another_module_of_the_tree():
    files = {
        "app/__init__.py": "",
        "app/bus.py": PUB + "bus = ChemPub()\n",
        "app/a.py": "from app.bus import bus\nbus.emit('t.x')\n",
        "app/b.py": "from . import bus as busmod\nbusmod.bus.emit('t.y')\n",
    }
    assert channels(files) == [("ORPHANED_QUEUE", "channel.t.x"), ("ORPHANED_QUEUE", "channel.t.y")]


# -- false positives from real code: a method's name is not a channel --------------------


def test_append_and_put_on_names_that_are_no_queue_attributes():  # the seed counted any .append()
    assert channels({"a.py": 'queue.append("t.x")\nitems.put("t.y")\n'}) == []


def test_non_literal_and_non_channel_topics_are_ignored():
    src = PUB + 'bus = ChemPub()\nbus.emit(name)\nbus.emit("not a channel name")\nbus.emit(make())\n'
    assert channels({"a.py": src}) == []


def test_bare_emit_publish_subscribe_of_unknown_origin_are_not_channels():
    src = 'emit("curiosity.x")\npublish(signal="t.a")\nsubscribe("c.*")\nhandler.emit(record)\n'
    assert channels({"a.py": src}) == []


def test_local_logging_helper_named_emit():  # real: def emit(name, **kw): log.info(...)
    src = """
    import logging
    log = logging.getLogger(__name__)

    def emit(name, **kw):
        log.info("event %s %s", name, kw)

    def place(order):
        emit("order.placed", id=order.id)
    """
    assert channels({"orders.py": src}) == []


def test_imported_event_log_function():  # real: from .events import emit; emit("user.login")
    files = {
        "app/__init__.py": "",
        "app/events.py": "import json\n\ndef emit(name, **kw):\n    print(json.dumps({'event': name, **kw}))\n",
        "app/auth.py": "from .events import emit\n\ndef login(user):\n    emit('user.login', user=user.id)\n",
    }
    assert channels(files) == []


def test_telemetry_emit_of_a_metric():  # real: self.telemetry.emit('metric', value)
    src = """
    from opentelemetry_helpers import Telemetry

    class Worker:
        def __init__(self):
            self.telemetry = Telemetry()

        def run(self):
            self.telemetry.emit('task.latency', 3.2)
    """
    assert channels({"worker.py": src}) == []


# -- topic values --------------------------------------------------------------------------


def test_module_and_class_constants():
    src = PUB + (
        'TOPIC = "t.module"\n'
        "class Svc:\n"
        '    TOPIC = "t.class"\n'
        "    def __init__(self):\n"
        "        self.pub = ChemPub()\n"
        "    def go(self):\n"
        "        self.pub.emit(TOPIC)\n"
        "        self.pub.emit(self.TOPIC)\n"
        "        self.pub.emit(Svc.TOPIC)\n"
    )
    assert channels({"a.py": src}) == [
        ("ORPHANED_QUEUE", "channel.t.class"),
        ("ORPHANED_QUEUE", "channel.t.module"),
    ]


def test_subclasses_set_the_topic_a_base_subscribes_to():
    src = SUB + (
        "class Listener:\n"
        "    TOPIC = None\n"
        "    def start(self):\n"
        "        ChemSub(self.TOPIC, self.handle)\n"
        "class Orders(Listener):\n"
        '    TOPIC = "orders.created"\n'
        "class Users(Listener):\n"
        '    TOPIC = "users.created"\n'
    )
    assert channels({"a.py": src}) == [
        ("ORPHANED_CONSUMER", "channel.orders.created"),
        ("ORPHANED_CONSUMER", "channel.users.created"),
    ]


def test_constants_imported_from_another_module():
    files = {
        "app/__init__.py": "",
        "app/topics.py": 'ORDER = "order.created"\nPAID = "order.paid"\n\nclass Topics:\n    USER = "user.created"\n',
        "app/pub.py": PUB + "from .topics import ORDER, Topics\nfrom . import topics\n"
        "ChemPub().emit(ORDER)\nChemPub().emit(topics.PAID)\nChemPub().emit(Topics.USER)\n",
    }
    assert channels(files) == [
        ("ORPHANED_QUEUE", "channel.order.created"),
        ("ORPHANED_QUEUE", "channel.order.paid"),
        ("ORPHANED_QUEUE", "channel.user.created"),
    ]
    consumer = {"app/sub.py": SUB + "ChemSub('order.created', cb)\nChemSub('order.paid', cb)\n"}
    assert channels({**files, **consumer}) == [("ORPHANED_QUEUE", "channel.user.created")]


def test_f_strings_concatenation_and_percent_of_constants():
    src = PUB + (
        'PREFIX = "orders"\n'
        "class Svc:\n"
        '    KIND = "paid"\n'
        "    def go(self, bus: ChemPub):\n"
        '        bus.emit(f"{PREFIX}.created")\n'
        '        bus.emit(PREFIX + "." + self.KIND)\n'
        '        bus.emit("%s.refunded" % PREFIX)\n'
    )
    assert channels({"a.py": src}) == [
        ("ORPHANED_QUEUE", "channel.orders.created"),
        ("ORPHANED_QUEUE", "channel.orders.paid"),
        ("ORPHANED_QUEUE", "channel.orders.refunded"),
    ]


ENUM = """
from enum import Enum

class Topic(str, Enum):
    ORDER_CREATED = "order.created"
    ORDER_PAID = "order.paid"
"""


def test_enum_member_value_name_and_member():
    src = (
        ENUM
        + PUB
        + (
            "bus = ChemPub()\n"
            "bus.emit(Topic.ORDER_CREATED.value)\n"
            "bus.emit(Topic.ORDER_PAID)\n"
            "bus.emit(Topic.ORDER_PAID.name)\n"
        )
    )
    assert channels({"a.py": src}) == [
        ("ORPHANED_QUEUE", "channel.ORDER_PAID"),
        ("ORPHANED_QUEUE", "channel.order.created"),
        ("ORPHANED_QUEUE", "channel.order.paid"),
    ]


def test_enum_imported_from_another_module_resolves_its_subscriber():  # real: 1 of 8 right before
    files = {
        "app/__init__.py": "",
        "app/topics.py": ENUM,
        "app/pub.py": PUB + "from app.topics import Topic\nChemPub().emit(Topic.ORDER_CREATED.value)\n",
        "app/sub.py": SUB + "ChemSub('order.created', on_order)\n",
    }
    assert channels(files) == []
    del files["app/pub.py"]
    assert channels(files) == [("ORPHANED_CONSUMER", "channel.order.created")]


def test_loops_over_literal_and_constant_collections_and_comprehensions():
    src = SUB + (
        'TOPICS = ["a.one", "a.two"]\n'
        "for t in ('lit.one', 'lit.two'):\n"
        "    ChemSub(t, cb)\n"
        "def start():\n"
        "    for topic in TOPICS:\n"
        "        ChemSub(topic, cb)\n"
        "subs = [ChemSub(t) for t in sorted({'set.one'})]\n"
    )
    assert channels({"a.py": src}) == [
        ("ORPHANED_CONSUMER", "channel.a.one"),
        ("ORPHANED_CONSUMER", "channel.a.two"),
        ("ORPHANED_CONSUMER", "channel.lit.one"),
        ("ORPHANED_CONSUMER", "channel.lit.two"),
        ("ORPHANED_CONSUMER", "channel.set.one"),
    ]


def test_loop_over_a_constant_list_imported_from_another_module():
    files = {
        "app/__init__.py": "",
        "app/topics.py": 'ALL = ("job.started", "job.done")\n',
        "app/sub.py": SUB + "from app.topics import ALL\nfor t in ALL:\n    ChemSub(t, cb)\n",
        "app/pub.py": PUB + "ChemPub().emit('job.done')\n",
    }
    assert channels(files) == [("ORPHANED_CONSUMER", "channel.job.started")]


def test_dict_of_topic_to_handler():
    src = SUB + (
        "HANDLERS = {'h.created': on_created, 'h.deleted': on_deleted}\n"
        "class Consumer:\n"
        "    ROUTES = {'r.one': 'handle_one'}\n"
        "    def start(self):\n"
        "        for topic, handler in HANDLERS.items():\n"
        "            ChemSub(topic, handler)\n"
        "        for topic in self.ROUTES:\n"
        "            ChemSub(topic, getattr(self, self.ROUTES[topic]))\n"
    )
    assert channels({"a.py": src}) == [
        ("ORPHANED_CONSUMER", "channel.h.created"),
        ("ORPHANED_CONSUMER", "channel.h.deleted"),
        ("ORPHANED_CONSUMER", "channel.r.one"),
    ]


def test_default_parameter_value():
    src = (
        SUB
        + "class Listener:\n    def start(self, topic='jobs.done'):\n        ChemSub(topic, self.handle)\n"
    )
    assert channels({"a.py": src}) == [("ORPHANED_CONSUMER", "channel.jobs.done")]


# -- wrappers: a parameter that flows into a topic -----------------------------------------

FIRE = (
    PUB
    + """
class Engine:
    def __init__(self):
        self.pub = ChemPub()

    def _fire(self, name, **facts):
        self.pub.emit(signal=name, **facts)

    def stage(self, what):
        self._fire(f"stage.{what}")

    def run(self):
        self._fire("engine.started")
        self.stage("compile")
"""
)


def test_fire_wrapper_two_levels():  # real: self._fire("X") -> def _fire(self, name): self.pub.emit(signal=name)
    assert channels({"engine.py": FIRE}) == [
        ("ORPHANED_QUEUE", "channel.engine.started"),
        ("ORPHANED_QUEUE", "channel.stage.compile"),
    ]
    consumer = {"watch.py": SUB + "ChemSub('engine.started', cb)\nChemSub('stage.*', cb)\n"}
    assert channels({"engine.py": FIRE, **consumer}) == []


LISTENER = (
    SUB
    + """
class Listener:
    def __init__(self, topic, handler):
        self.topic = topic
        self.handler = handler

    def start(self):
        self.sub = ChemSub(self.topic, self.handler)
"""
)


def test_small_subscriber_class_taking_topic():  # real: it hid consumers, so producers looked orphaned
    files = {"app/__init__.py": "", "app/listen.py": LISTENER}
    local = LISTENER + "Listener(topic='job.done', handler=print).start()\n"
    assert channels({"app/__init__.py": "", "app/listen.py": local}) == [
        ("ORPHANED_CONSUMER", "channel.job.done")
    ]
    files["app/main.py"] = "from app.listen import Listener\nListener(topic='job.done', handler=print)\n"
    assert channels(files) == [("ORPHANED_CONSUMER", "channel.job.done")]
    files["app/work.py"] = PUB + "ChemPub().emit('job.done')\n"
    assert channels(files) == []


def test_wrappers_across_modules_two_levels():  # each hop passes the topic on by keyword
    files = {
        "app/__init__.py": "",
        "app/bus.py": PUB
        + "_pub = ChemPub()\n\ndef publish_event(event, **facts):\n    _pub.emit(event, **facts)\n",
        "app/audit.py": "from app.bus import publish_event\n\ndef audit(event):\n    publish_event(event=event, audit=True)\n",
        "app/views.py": "from app.audit import audit\n\ndef view():\n    audit(event='user.viewed')\n",
    }
    assert channels(files) == [("ORPHANED_QUEUE", "channel.user.viewed")]


def test_a_positional_call_into_another_modules_wrapper_once_it_is_declared():
    files = {
        "app/__init__.py": "",
        "app/bus.py": PUB
        + "_pub = ChemPub()\n\ndef publish_event(name, **facts):\n    _pub.emit(name, **facts)\n",
        "app/views.py": "from app.bus import publish_event\n\ndef view():\n    publish_event('user.viewed')\n",
    }
    assert channels(files) == []  # views.py names no endpoint: it gets no full walk
    config = Config(endpoints=(Endpoint("app.bus.publish_event", "producer", 0),))
    assert channels(files, config) == [("ORPHANED_QUEUE", "channel.user.viewed")]


def test_a_method_of_a_class_defined_in_another_module():
    files = {
        "app/__init__.py": "",
        "app/bus.py": PUB + "class EventBus:\n    def __init__(self):\n        self._pub = ChemPub()\n"
        "    def fire(self, topic):\n        self._pub.emit(topic)\n",
        "app/svc.py": "from app.bus import EventBus\n\nclass Svc:\n    def __init__(self):\n"
        "        self.events = EventBus()\n    def go(self):\n        self.events.fire(topic='svc.done')\n",
    }
    assert channels(files) == [("ORPHANED_QUEUE", "channel.svc.done")]


def test_configured_method_of_an_attribute_set_in_another_module():  # Home Assistant: hass.bus.async_fire
    config = Config(
        endpoints=(
            Endpoint("ha.core.EventBus.async_fire", "producer", 0),
            Endpoint("ha.core.EventBus.async_listen", "consumer", 0),
        )
    )
    files = {
        "ha/__init__.py": "",
        "ha/const.py": 'EVENT_STATE_CHANGED = "state_changed"\nEVENT_PANEL = "panel_updated"\n',
        "ha/core.py": "class EventBus:\n    def async_fire(self, event_type, data=None):\n        pass\n"
        "class HomeAssistant:\n    def __init__(self):\n        self.bus = EventBus()\n",
        "ha/light.py": "from .const import EVENT_STATE_CHANGED, EVENT_PANEL\nfrom .core import HomeAssistant\n\n"
        "def setup(hass: HomeAssistant):\n    hass.bus.async_fire(EVENT_STATE_CHANGED)\n    hass.bus.async_fire(EVENT_PANEL)\n",
        "ha/recorder.py": "from .core import HomeAssistant\nfrom . import const\n\n"
        "def start(hass: HomeAssistant):\n    hass.bus.async_listen(const.EVENT_STATE_CHANGED, print)\n",
    }
    assert channels(files, config) == [("ORPHANED_QUEUE", "channel.panel_updated")]


# -- wildcards and recorders ---------------------------------------------------------------


def test_wildcard_subscriptions_follow_amqp_semantics():
    pub = {"a.py": PUB + 'ChemPub().emit("c.x.y")\n'}
    assert channels({**pub, "b.py": SUB + 'ChemSub("c.#")\n'}) == []
    assert channels({**pub, "b.py": SUB + 'ChemSub("c.*")\n'}) == [
        ("ORPHANED_CONSUMER", "channel.c.*"),
        ("ORPHANED_QUEUE", "channel.c.x.y"),
    ]
    assert channels({**pub, "b.py": SUB + 'ChemSub("c.*.y")\n'}) == []


def test_wildcard_consumer_matching_nothing_is_a_low_question():
    sub = {"b.py": SUB + 'ChemSub("t.*")\n'}
    assert channels({**sub, "a.py": PUB + 'ChemPub().emit("u.x")\n'}) == [
        ("ORPHANED_CONSUMER", "channel.t.*"),
        ("ORPHANED_QUEUE", "channel.u.x"),
    ]
    assert channels({**sub, "a.py": PUB + 'ChemPub().emit("t.x")\n'}) == []


def test_a_catch_all_subscription_is_a_recorder_not_a_consumer():
    pub = {"a.py": PUB + 'ChemPub().emit("c.x")\n'}
    for catch_all in ('"#"', '""'):
        assert channels({**pub, "b.py": SUB + f"ChemSub({catch_all}, record)\n"}) == [
            ("ORPHANED_QUEUE", "channel.c.x")
        ]
        config = Config(recorders_are_consumers=True)
        assert channels({**pub, "b.py": SUB + f"ChemSub({catch_all}, record)\n"}, config) == []


def test_channels_wired_only_inside_tests_ask_nothing():
    assert channels({"tests/test_bus.py": PUB + SUB + 'ChemPub().emit("t.x")\nChemSub("t.y")\n'}) == []


def test_configured_endpoints():
    config = Config(
        endpoints=(Endpoint("mybus.Bus.fire", "producer", 0), Endpoint("listen", "consumer", None, "on"))
    )
    files = {"a.py": "from mybus import Bus\nBus().fire('cfg.a')\nlisten(on='cfg.b')\n"}
    assert channels(files, config) == [
        ("ORPHANED_CONSUMER", "channel.cfg.b"),
        ("ORPHANED_QUEUE", "channel.cfg.a"),
    ]
    assert channels(files) == []


# -- Django signals ------------------------------------------------------------------------

SIGNALS = "from django.dispatch import Signal\n\norder_placed = Signal()\norder_paid = Signal()\n"


def test_django_signal_sent_and_never_connected():
    files = {
        "shop/__init__.py": "",
        "shop/signals.py": SIGNALS,
        "shop/models.py": "from shop.signals import order_placed\n\ndef place(o):\n    order_placed.send(sender=None, order=o)\n",
    }
    assert channels(files) == [("ORPHANED_QUEUE", "signal.shop.signals.order_placed")]
    files["shop/receivers.py"] = (
        "from django.dispatch import receiver\nfrom shop import signals\n\n"
        "@receiver(signals.order_placed)\ndef on_placed(sender, **kw):\n    pass\n"
    )
    assert channels(files) == []


def test_django_signal_connected_and_never_sent_and_send_robust():
    files = {
        "shop/__init__.py": "",
        "shop/signals.py": SIGNALS,
        "shop/apps.py": "from .signals import order_paid, order_placed\norder_paid.connect(handler)\n"
        "order_placed.send_robust(sender=None)\n",
    }
    assert channels(files) == [
        ("ORPHANED_CONSUMER", "signal.shop.signals.order_paid"),
        ("ORPHANED_QUEUE", "signal.shop.signals.order_placed"),
    ]


def test_a_signal_subclass_defined_in_the_tree():  # pretix: EventPluginSignal().send(...) / @receiver
    files = {
        "shop/__init__.py": "",
        "shop/base.py": "from django.dispatch import Signal\n\nclass EventPluginSignal(Signal):\n    pass\n",
        "shop/signals.py": "from .base import EventPluginSignal\n\norder_placed = EventPluginSignal()\n",
        "shop/views.py": "from .signals import order_placed\n\ndef place():\n    order_placed.send(None)\n",
    }
    assert channels(files) == [("ORPHANED_QUEUE", "signal.shop.signals.order_placed")]


def test_djangos_own_signals_and_qt_signals_are_not_asked_about():
    src = """
    from django.db.models.signals import post_save
    from PySide6.QtCore import QObject, Signal

    post_save.connect(handler, sender=Model)

    class Button(QObject):
        clicked = Signal()

        def press(self):
            self.clicked.emit()
    """
    assert channels({"a.py": src}) == []


def test_a_library_sends_its_public_signals_for_its_users():
    files = {"lib/__init__.py": "", "lib/signals.py": SIGNALS + "order_placed.send(sender=None)\n"}
    assert channels(files, Config(kind="library")) == []
    assert channels(files) == [("ORPHANED_QUEUE", "signal.lib.signals.order_placed")]


# -- in-process queues (the seed's ORPHANED_QUEUE) -----------------------------------------

DAEMON = """
import queue
from collections import deque

class StreamingDaemon:
    def __init__(self):
        self.event_queue = queue.Queue(maxsize=1000)
        self.history = deque(maxlen=100)
        self.items = []

    def on_event(self, event):
        self.event_queue.put((event.type, event.path), timeout=1.0)
        self.history.append(event)
        self.items.append(event)
"""


def test_queue_put_to_and_never_got_from():
    assert channels({"daemon.py": DAEMON}) == [
        ("ORPHANED_QUEUE", "queue.daemon.StreamingDaemon.event_queue"),
        ("ORPHANED_QUEUE", "queue.daemon.StreamingDaemon.history"),
    ]


def test_a_queue_got_from_iterated_or_passed_on_is_consumed():
    consumed = DAEMON + (
        "    def worker(self):\n"
        "        while True:\n"
        "            item = self.event_queue.get(timeout=1.0)\n"
        "    def recent(self):\n"
        "        return list(self.history)\n"
    )
    assert channels({"daemon.py": consumed}) == []


def test_rate_limiter_deque_from_the_seed():
    src = """
    import time
    from collections import deque

    class RateLimiter:
        def __init__(self, max_per_second=10):
            self.max_per_second = max_per_second
            self.events = deque()

        def allow(self):
            now = time.time()
            while self.events and self.events[0] < now - 1.0:
                self.events.popleft()
            self.events.append(now)
            return len(self.events) <= self.max_per_second
    """
    assert channels({"limiter.py": src}) == []


def test_a_queue_consumed_from_another_module():
    files = {"daemon.py": DAEMON, "worker.py": "def work(daemon):\n    return daemon.event_queue.get()\n"}
    assert channels(files) == [("ORPHANED_QUEUE", "queue.daemon.StreamingDaemon.history")]


# -- files without endpoints get a cheaper walk; what they export must not change -----------

QUIET = {
    "app/topics.py": 'PREFIX = "orders"\nORDER = PREFIX + ".created"\nALL = [ORDER, "orders.paid"]\n'
    "if DEBUG:\n    EXTRA = f'{PREFIX}.debug'\n",
    "app/kinds.py": "from enum import Enum\n\nclass Kind(str, Enum):\n    A = 'kind.a'\n    B = 'kind.b'\n",
    "app/core.py": "from app.bus import EventBus\n\nclass Hub:\n    def __init__(self):\n        if True:\n"
    "            self.bus = EventBus()\n        self.n = 1\n\nhub = Hub()\n",
    "main.py": "import app.core\nsettings = app.core.Hub()\n",
}


def channel_postings(path: str, source: str, walk: bool) -> dict:
    from monitors import collector
    from monitors.extract import parse
    from monitors.facts import FileFacts, module_name
    from monitors.registry import MONITORS

    facts = FileFacts(path=path, module=module_name(path), is_package=path.endswith("__init__.py"))
    collector.FactCollector(facts, source=None if walk else source.encode()).collect(
        parse(path, source.encode())
    )
    return MONITORS["channels"].postings(facts)


def test_a_file_without_endpoints_exports_what_a_full_walk_would():
    for path, source in QUIET.items():
        assert channel_postings(path, source, walk=False) == channel_postings(path, source, walk=True), path
        assert channel_postings(path, source, walk=False), path  # it does export something


def test_a_stale_wildcard_subscription_reads_as_plain_english():
    asked = questions({"sub.py": 'from bus import ChemSub\nChemSub("ghost.*", print)\n'})
    assert [q.question for q in asked] == [
        "Nothing in the tree emits a channel that subscription 'ghost.*' matches. Is it stale?"
    ]


# -- precision round 3: false positives read on pretix and Home Assistant -----------------

PRETIX_SIGNALS = """
from django.dispatch import Signal


class EventPluginSignal(Signal):
    pass


register_ticket_outputs = EventPluginSignal()
sendmail_view_classes = EventPluginSignal()
periodic_task = EventPluginSignal()
checkin_created = EventPluginSignal()
\"\"\"
Arguments: ``checkin``

This signal is sent out every time a check-in is created.
\"\"\"
"""


def pretix(**files: str) -> dict[str, str]:
    return {
        "pretix/__init__.py": "",
        "pretix/base/__init__.py": "",
        "pretix/base/signals.py": PRETIX_SIGNALS,
        **files,
    }


def test_a_documented_plugin_signal_is_sent_for_receivers_outside_the_tree():  # [plugin-signal]
    sender = "from pretix.base.signals import checkin_created\n\ndef checkin(c):\n    checkin_created.send(c.event, checkin=c)\n"
    assert channels(pretix(**{"pretix/base/services/checkin.py": sender})) == []
    deprecated = "class DeprecatedSignal(EventPluginSignal):\n    pass\n\nregister_sales_channels = DeprecatedSignal()  # TODO: remove me\n"
    files = pretix(**{"pretix/base/channels.py": "from pretix.base.signals import register_sales_channels\n\n"
                      "def channels():\n    return register_sales_channels.send(None)\n"})  # fmt: skip
    files["pretix/base/signals.py"] += deprecated
    assert channels(files) == []  # kept for old plugins outside the tree


def test_a_receiver_named_like_the_signal_and_one_taking_the_signal_by_keyword():  # [missed-receiver]
    files = pretix(**{
        "pretix/api/serializers/order.py": "from pretix.base.signals import register_ticket_outputs\n\n"
        "def outputs(event):\n    return register_ticket_outputs.send(event)\n",
        "pretix/plugins/ticketoutputpdf/signals.py": "from django.dispatch import receiver\n\n"
        "from pretix.base.signals import (\n    register_ticket_outputs,\n)\n\n\n"
        '@receiver(register_ticket_outputs, dispatch_uid="output_pdf")\n'
        "def register_ticket_outputs(sender, **kwargs):\n    return None\n",
        "pretix/plugins/sendmail/views.py": "from pretix.base.signals import sendmail_view_classes\n\n"
        "def views(event):\n    return sendmail_view_classes.send(event)\n",
        "pretix/plugins/sendmail/signals.py": "from django.dispatch import receiver\n\n"
        "from pretix.base.signals import sendmail_view_classes\n\n\n"
        '@receiver(signal=sendmail_view_classes, dispatch_uid="sendmail_views")\n'
        "def views(sender, **kwargs):\n    return []\n",
    })  # fmt: skip
    assert channels(files) == []


def test_receivers_called_one_by_one_are_a_send():  # [manual-dispatch] pretix runperiodic
    runner = (
        "from pretix.base.signals import periodic_task\n\ndef handle(self):\n"
        "    for receiver in periodic_task._live_receivers(self)[0]:\n        receiver(signal=periodic_task, sender=self)\n"
    )
    connect = "from pretix.base.signals import periodic_task\nperiodic_task.connect(cleanup)\n"
    files = pretix(
        **{"pretix/base/management/commands/runperiodic.py": runner, "pretix/base/apps.py": connect}
    )
    assert channels(files) == []


HA_CONFIG = Config(
    endpoints=(
        Endpoint("ha.helpers.dispatcher.async_dispatcher_send", "producer", 1),
        Endpoint("ha.helpers.dispatcher.async_dispatcher_connect", "consumer", 1),
    )
)
HA = {
    "ha/__init__.py": "",
    "ha/helpers/__init__.py": "",
    "ha/helpers/dispatcher.py": "def async_dispatcher_send(hass, signal, *args):\n    pass\n\n"
    "def async_dispatcher_connect(hass, signal, target):\n    pass\n",
}


def ha_listener(*names: str) -> str:
    lines = "".join(f"    async_dispatcher_connect(hass, {n}, print)\n" for n in names)
    return f"from ha.helpers.dispatcher import async_dispatcher_connect\nfrom .const import {', '.join(names)}\n\ndef setup(hass):\n{lines}"


def test_a_signal_taken_from_a_map_of_constants():  # [container-topic] rachio/webhooks.py:107
    files = {
        **HA,
        "ha/rachio/__init__.py": "",
        "ha/rachio/const.py": 'SIGNAL_CONTROLLER = "rachio_controller"\nSIGNAL_ZONE = "rachio_zone"\n',
        "ha/rachio/webhooks.py": "from ha.helpers.dispatcher import async_dispatcher_send\n"
        "from .const import SIGNAL_CONTROLLER, SIGNAL_ZONE\n\n"
        'SIGNAL_MAP = {"controller": SIGNAL_CONTROLLER, "zone": SIGNAL_ZONE}\n\n'
        "def handle(hass, update_type, data):\n    async_dispatcher_send(hass, SIGNAL_MAP[update_type], data)\n",
        "ha/rachio/switch.py": ha_listener("SIGNAL_CONTROLLER", "SIGNAL_ZONE"),
    }
    assert channels(files, HA_CONFIG) == []


def test_signals_looped_over_from_a_map_get():  # [container-topic] netatmo/data_handler.py:370
    files = {
        **HA,
        "ha/netatmo/__init__.py": "",
        "ha/netatmo/const.py": 'NETATMO_CREATE_FAN = "netatmo_create_fan"\nNETATMO_CREATE_LIGHT = "netatmo_create_light"\n',
        "ha/netatmo/data_handler.py": "from ha.helpers.dispatcher import async_dispatcher_send\n"
        "from .const import NETATMO_CREATE_FAN, NETATMO_CREATE_LIGHT\n\n"
        'TYPE_SIGNAL_MAP = {"fan": [NETATMO_CREATE_FAN], "light": (NETATMO_CREATE_LIGHT,)}\n\n'
        "def setup(self, kind):\n    for signal in TYPE_SIGNAL_MAP.get(kind, []):\n"
        "        async_dispatcher_send(self.hass, signal, self)\n",
        "ha/netatmo/fan.py": ha_listener("NETATMO_CREATE_FAN"),
        "ha/netatmo/light.py": ha_listener("NETATMO_CREATE_LIGHT"),
    }
    assert channels(files, HA_CONFIG) == []


def test_tuples_appended_then_spread_into_the_send():  # [container-topic] sonos/speaker.py:215
    files = {
        **HA,
        "ha/sonos/__init__.py": "",
        "ha/sonos/const.py": 'SONOS_CREATE_SWITCH = "sonos_create_switch"\nSONOS_SPEAKER_ADDED = "sonos_speaker_added"\n',
        "ha/sonos/speaker.py": "from ha.helpers.dispatcher import async_dispatcher_send\n"
        "from .const import SONOS_CREATE_SWITCH, SONOS_SPEAKER_ADDED\n\n"
        "def setup(self, uid):\n    dispatches = []\n    dispatches.append((SONOS_CREATE_SWITCH, self))\n"
        "    dispatches.append((SONOS_SPEAKER_ADDED, uid))\n    for dispatch in dispatches:\n"
        "        async_dispatcher_send(self.hass, *dispatch)\n",
        "ha/sonos/switch.py": ha_listener("SONOS_CREATE_SWITCH", "SONOS_SPEAKER_ADDED"),
    }
    assert channels(files, HA_CONFIG) == []


def test_a_send_bound_with_partial_and_called_later():  # [partial-send] sonos/__init__.py:613
    files = {
        **HA,
        "ha/sonos/__init__.py": "from functools import partial\n\nfrom ha.helpers.dispatcher import async_dispatcher_send\n"
        "from .const import SONOS_CHECK_ACTIVITY\n\n"
        "def setup(self, hass):\n    track(hass, partial(async_dispatcher_send, self.hass, SONOS_CHECK_ACTIVITY), 60)\n",
        "ha/sonos/const.py": 'SONOS_CHECK_ACTIVITY = "sonos_check_activity"\n',
        "ha/sonos/speaker.py": ha_listener("SONOS_CHECK_ACTIVITY"),
    }
    assert channels(files, HA_CONFIG) == []


def test_tuples_handed_to_a_method_that_spreads_them_into_the_send():  # [container-topic] the real sonos code
    speaker = (
        "from ha.helpers.dispatcher import async_dispatcher_send\n"
        "from .const import SONOS_CREATE_LEVELS, SONOS_SPEAKER_ADDED\n\n"
        "class SonosSpeaker:\n"
        "    async def async_setup(self, entry, has_battery, dispatches):\n"
        "        for dispatch in dispatches:\n"
        "            async_dispatcher_send(self.hass, *dispatch)\n\n"
        "    def setup(self, entry):\n"
        "        dispatches = [(SONOS_CREATE_LEVELS, self)]\n"
        "        dispatches.append((SONOS_SPEAKER_ADDED, self.soco.uid))\n"
        "        self.hass.create_task(self.async_setup(entry, False, dispatches))\n"
    )
    files = {
        **HA,
        "ha/sonos/__init__.py": "",
        "ha/sonos/const.py": 'SONOS_CREATE_LEVELS = "sonos_create_levels"\nSONOS_SPEAKER_ADDED = "sonos_speaker_added"\n',
        "ha/sonos/speaker.py": speaker,
        "ha/sonos/number.py": ha_listener("SONOS_CREATE_LEVELS", "SONOS_SPEAKER_ADDED"),
    }
    assert channels(files, HA_CONFIG) == []


def test_a_signal_named_in_a_template_tag_is_sent_from_the_template():  # [template-send] pretix
    files = pretix(**{
        "pretix/control/signals.py": "from django.dispatch import Signal\n\norder_info = Signal()\n",
        "pretix/plugins/badges/signals.py": "from django.dispatch import receiver\n\n"
        "from pretix.control.signals import order_info\n\n\n@receiver(order_info)\ndef info(sender, **kw):\n    return ''\n",
    })  # fmt: skip
    assert channels(files) == [("ORPHANED_CONSUMER", "signal.pretix.control.signals.order_info")]
    template = (
        '{% load eventsignal %}\n{% eventsignal event "pretix.control.signals.order_info" order=order %}\n'
    )
    files["pretix/control/templates/pretixcontrol/order/index.html"] = template
    assert channels(files) == []
