"""`manage.py chembus`: listen, publish, and the ZeroMQ proxy/bridge. Wired in by the app's commands."""

from __future__ import annotations

import json
import signal
import sys
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kloros_site.chembus.bus import publish
from kloros_site.chembus.config import ChemBusError
from kloros_site.chembus.sub import ChemSub
from kloros_site.chembus.zmq_bridge import DEFAULT_XPUB, DEFAULT_XSUB, run_bridge, run_proxy


def _bus() -> dict[str, Any]:
    return {
        "url": settings.CHEMBUS_URL,
        "transport_options": settings.CHEMBUS_TRANSPORT_OPTIONS,
        "exchange": settings.CHEMBUS_EXCHANGE,
    }


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    return stop


class Command(BaseCommand):
    help = "ChemBus: listen to or publish on the bus, or run the ZeroMQ proxy/bridge."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listen = sub.add_parser("listen", help="print matching envelopes, one JSON line each")
        listen.add_argument("pattern")
        listen.add_argument("--name", help="durable queue name (keeps messages while not listening)")
        listen.add_argument("--count", type=int, help="exit after N messages")
        listen.add_argument("--timeout", type=float, help="exit after S seconds without a message")
        pub = sub.add_parser("publish", help="publish one JSON envelope under SIGNAL")
        pub.add_argument("signal")
        pub.add_argument("json")
        proxy = sub.add_parser("proxy", help="ZeroMQ XSUB/XPUB forwarder")
        proxy.add_argument("--xsub", default=DEFAULT_XSUB)
        proxy.add_argument("--xpub", default=DEFAULT_XPUB)
        bridge = sub.add_parser("bridge", help="forward bus messages to a ZeroMQ XSUB endpoint")
        bridge.add_argument("pattern", nargs="?", default="curiosity.#")
        bridge.add_argument("--name", default="chembus-zmq-bridge", help="its durable queue on the bus")
        bridge.add_argument("--xsub", default=None, help="default: KLR_CHEM_XSUB")

    def handle(self, *args: Any, **opts: Any) -> None:
        try:
            getattr(self, f"_{opts['action']}")(opts)
        except (ChemBusError, ValueError) as exc:
            raise CommandError(str(exc)) from exc

    def _listen(self, opts: dict[str, Any]) -> None:
        stop = _stop_on_signals()
        with ChemSub(opts["pattern"], name=opts["name"], **_bus()) as sub:
            # the queue is bound now: a reader waiting for this line will not miss messages
            self.stderr.write(f"listening on {opts['pattern']}")
            self.stderr.flush()
            for env in sub.iter(opts["timeout"], limit=opts["count"], stop=stop):
                # Flushed per line: readers are pipes (tests, jq), which would otherwise see nothing.
                sys.stdout.write(json.dumps(env, separators=(",", ":")) + "\n")
                sys.stdout.flush()

    def _publish(self, opts: dict[str, Any]) -> None:
        try:
            body = json.loads(opts["json"])
        except ValueError as exc:
            raise CommandError(f"JSON argument is not valid JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise CommandError("JSON argument must be an object")
        bus = _bus()
        publish(
            bus["url"],
            opts["signal"],
            body,
            transport_options=bus["transport_options"],
            exchange=bus["exchange"],
        )
        self.stderr.write(f"published {opts['signal']}")

    def _proxy(self, opts: dict[str, Any]) -> None:
        self.stderr.write(f"chembus proxy: XSUB {opts['xsub']} -> XPUB {opts['xpub']}")
        run_proxy(opts["xsub"], opts["xpub"], _stop_on_signals())

    def _bridge(self, opts: dict[str, Any]) -> None:
        xsub = opts["xsub"] or settings.CHEMBUS_XSUB
        self.stderr.write(f"chembus bridge: {opts['pattern']} -> PUB connected to {xsub}")
        count = run_bridge(opts["pattern"], xsub, _stop_on_signals(), queue_name=opts["name"], **_bus())
        self.stderr.write(f"chembus bridge: forwarded {count}")
