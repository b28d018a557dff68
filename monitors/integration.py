"""Integration monitor: how components are wired together.

One registered unit composed of concerns (monitors/registry.py Concern), because they share
one file's postings: module:<mod> and prefix:<pkg> serve the wiring concern, class:<qualname>
serves components and dead code. Each concern declares its own hypotheses and keys:

  wiring (monitors/wiring.py)       import:, task:                    MISSING_WIRING
  components (monitors/components.py) class:, subclass:, attrstore:  UNINITIALIZED_COMPONENT
  duplicates (monitors/duplicates.py) clone:                          DUPLICATE_RESPONSIBILITY
  dead code (monitors/deadcode.py)  name:, used:, strprefix:          DEAD_CODE
  module:<mod>   the module's top-level names (read by import:<mod>)
  prefix:<pkg>   "some module lives under pkg" (read to tell project from stdlib)

Channels (ORPHANED_QUEUE, ORPHANED_CONSUMER) are a monitor of their own: monitors/channels.py.
"""

from __future__ import annotations

from monitors.components import Components
from monitors.deadcode import DeadCode
from monitors.duplicates import Duplicates
from monitors.facts import FileFacts
from monitors.keys import module_postings
from monitors.question import Question
from monitors.registry import Lookup, Monitor, Postings, register
from monitors.wiring import Wiring


@register
class IntegrationMonitor(Monitor):
    id = "integration"
    concerns = (Wiring(), Components(), Duplicates(), DeadCode())

    # -- postings ----------------------------------------------------------------

    def postings(self, facts: FileFacts) -> Postings:
        postings: Postings = {}
        if facts.kind == "python":
            names = sorted(facts.bound | (facts.exports or set()))  # __all__ promises its names
            module_postings(facts, postings, {"names": names, "open": facts.open_namespace})
        for concern in self.concerns:
            concern.postings(facts, postings)
        return postings

    # -- evaluation --------------------------------------------------------------

    def evaluate(self, key: str, lookup: Lookup) -> list[Question]:
        kind, _, name = key.partition(":")
        concern = self.concern_for(kind)
        return concern.evaluate(kind, name, lookup) if concern else []
