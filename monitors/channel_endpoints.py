"""Which callables publish, which subscribe, and where their topic is: the one table of channel endpoints.

A call is a channel endpoint because of what it calls, never because of a method's name: a
bare `emit("x")` of unknown origin is not a channel. Callables are dotted names as the code
resolves them (`bus.ChemPub.emit` after `from bus import ChemPub`). An entry naming a class
(`ChemPub.emit`, `ChemSub`) matches that class wherever it comes from, defined in the tree or
imported from outside it; an entry naming a module path (`kloros_site.chembus.publish`)
matches only that path. `[[tool.kloros.endpoints]]` (monitors.config.Endpoint) adds entries.
"""

from __future__ import annotations

import re
import sys
from functools import lru_cache

from monitors.config import Config, Endpoint

BUS_ENDPOINTS: tuple[Endpoint, ...] = (
    # The ChemBus API the seed describes: ChemPub().emit(signal, ...), ChemSub(topic, callback);
    # the seed's own daemon also calls chem_pub.publish(signal=..., payload=...) and
    # ChemSub().subscribe("curiosity.*").
    Endpoint("ChemPub.emit", "producer", 0, "signal"),
    Endpoint("ChemPub.publish", "producer", 0, "signal"),
    Endpoint("ChemSub", "consumer", 0, "topic"),
    Endpoint("ChemSub.subscribe", "consumer", 0, "topic"),
    # This project's own ChemBus (kloros_site/chembus): publish(bus, signal, envelope),
    # Publisher(...).publish(signal, envelope), ChemSub(pattern, ...).
    Endpoint("kloros_site.chembus.publish", "producer", 1, "signal"),
    Endpoint("kloros_site.chembus.bus.publish", "producer", 1, "signal"),
    Endpoint("kloros_site.chembus.Publisher.publish", "producer", 0, "signal"),
    Endpoint("kloros_site.chembus.bus.Publisher.publish", "producer", 0, "signal"),
    Endpoint("kloros_site.chembus.ChemSub", "consumer", 0, "pattern"),
    Endpoint("kloros_site.chembus.sub.ChemSub", "consumer", 0, "pattern"),
)

# Django signals: a module-level `Signal()` object is the channel, its qualified name the topic.
# Any class named ...Signal counts (django.dispatch.Signal, ModelSignal, pretix's EventPluginSignal).
# Only module-level objects count: class attributes named Signal are Qt's, which emit and connect.
SIGNAL_CLASS_SUFFIX = "Signal"
# `_live_receivers`: pretix's runperiodic calls each receiver itself instead of sending
SIGNAL_METHODS = {"send": "producer", "send_robust": "producer", "asend": "producer",
                  "asend_robust": "producer", "_live_receivers": "producer", "connect": "consumer"}  # fmt: skip
RECEIVER_DECORATORS = ("dispatch.receiver",)  # @receiver(signal) / @receiver([s1, s2])

# In-process queues held as attributes: put/appended to, and nothing ever gets, pops or iterates them.
QUEUE_CLASSES = (
    "queue.Queue", "queue.SimpleQueue", "queue.LifoQueue", "queue.PriorityQueue",
    "asyncio.Queue", "asyncio.LifoQueue", "asyncio.PriorityQueue", "asyncio.queues.Queue",
    "collections.deque", "multiprocessing.Queue", "multiprocessing.SimpleQueue",
    "multiprocessing.JoinableQueue",
)  # fmt: skip
QUEUE_PUTS = {"put", "put_nowait", "append", "appendleft", "extend", "extendleft"}
QUEUE_GETS = {"get", "get_nowait", "popleft", "pop"}  # from outside the class: obj.q.get()
# the same, read from the source of a file that gets no full walk: obj.<attr>.get() / .popleft()
QUEUE_READ = re.compile(rb"\.(\w+)\.(?:get(?:_nowait)?\((?:\)|True|False|\d|timeout|block)|pop(?:left)?\(\))")
QUEUE_READ_HINTS = (b".get()", b".get(timeout", b".get_nowait(", b".popleft(")

# Source without any of these (nor an endpoint's name followed by "(") holds no endpoint, no
# wrapper of one, no signal and no queue: see channel_facts.ChannelCollector.needs_walk.
WALK_TRIGGERS = {b"Signal(", b"receiver(", b"deque(", b"Queue("}
# Where a call into another module of the tree passes a topic: its first argument, or one of these.
TOPIC_KEYWORDS = frozenset({"topic", "signal", "channel", "event", "event_type", "subject", "pattern",
                            "routing_key", "name"})  # fmt: skip
# A file importing the tree gets the light walk only if it may pass a topic on by keyword
# (`Listener(topic="jobs.done")`) or use an imported signal: a walk of every file importing its
# own package cost the stdlib scan 10%. A positional call into another module's wrapper
# (`audit("user.viewed")`) from a file naming no endpoint is seen once the wrapper is declared
# in [tool.kloros] endpoints (its name then makes the file walked, and the call an endpoint).
LIGHT_WALK_HINTS = (b"topic=", b"signal=", b"channel=", b"event=", b"event_type=", b"routing_key=",
                    b"subject=", b"pattern=", b".send(", b".send_robust(", b".connect(",
                    b"._live_receivers(")  # fmt: skip

# A topic: dot-separated words; "*" and "#" are AMQP wildcards when they are a whole word.
TOPIC = re.compile(r"[\w\-*#:/]+(?:\.[\w\-*#:/]+)*")
CATCH_ALL = "#"
STDLIB = frozenset(sys.stdlib_module_names)


def is_class_entry(callable_: str) -> bool:
    """`ChemPub.emit`, `ChemSub`: a class (capitalized) named without its module."""
    head = callable_.split(".")[0]
    return head[:1].isupper()


class Table:
    """The endpoint table of one tree: defaults plus `[tool.kloros]` endpoints."""

    def __init__(self, extra: tuple[Endpoint, ...] = ()) -> None:
        self.entries = BUS_ENDPOINTS + tuple(extra)
        # the last name of every callable: a call whose name is none of these needs no resolving
        self.by_name: dict[str, list[Endpoint]] = {}
        for e in self.entries:
            self.by_name.setdefault(e.callable.rpartition(".")[2], []).append(e)
        self.names = frozenset(self.by_name)
        # Source that mentions none of these words has no endpoint, no wrapper of one, no signal
        # and no queue: its channel facts come from a cheap scan of its statements (see
        # channel_facts.ChannelCollector); this saves the full walk on most files.
        # A configured name counts anywhere (partial(async_dispatcher_send, ...), an import of it);
        # the defaults only as a call: "emit" alone is in "submit".
        configured = {e.callable.rpartition(".")[2].encode() for e in extra}
        self.triggers = tuple(sorted({f"{n}(".encode() for n in self.names} | configured | WALK_TRIGGERS))
        # class names among them: a subclass of one inherits its endpoints
        self.classes = frozenset(
            part for e in self.entries for part in e.callable.split(".") if part[:1].isupper()
        )

    def triggered(self, source: bytes) -> bool:
        """Substring checks (C speed): a regex alternation over every file costs 10% of a scan."""
        return any(word in source for word in self.triggers)

    def match(self, dotted: str) -> list[Endpoint]:
        """Entries whose callable is `dotted` or a suffix of it at a dot."""
        return [
            e for e in self.by_name.get(dotted.rpartition(".")[2], ()) if suffix_match(dotted, e.callable)
        ]


def suffix_match(dotted: str, name: str) -> bool:
    return dotted == name or dotted.endswith("." + name)


def is_signal_class(dotted: str) -> bool:
    return dotted.rpartition(".")[2].endswith(SIGNAL_CLASS_SUFFIX)


PARTIALS = ("functools.partial",)  # partial(send, hass, SIGNAL): a call made later, with these arguments


def is_partial(dotted: str) -> bool:
    return dotted in PARTIALS


def is_receiver_decorator(dotted: str) -> bool:
    return any(suffix_match(dotted, name) for name in RECEIVER_DECORATORS)


def is_queue_class(dotted: str) -> bool:
    return dotted in QUEUE_CLASSES


def is_pattern(topic: str) -> bool:
    return any(word in ("*", "#") for word in topic.split("."))


def normal_topic(value: str, role: str) -> str | None:
    """The topic a string names, or None when it names none (prose, empty producer)."""
    if not value:
        return CATCH_ALL if role == "consumer" else None  # an empty prefix subscribes to everything
    if len(value) > 200 or not TOPIC.fullmatch(value):
        return None
    return value


def is_recorder(topic: str) -> bool:
    """A catch-all subscription records everything; it is not a consumer of any one channel."""
    return all(word == CATCH_ALL for word in topic.split("."))


@lru_cache(maxsize=64)
def table_for(config: Config) -> Table:
    return Table(config.endpoints)
