"""The ChemBus signals monitors' questions go out on (each Hypothesis names one).

The same names as kloros_site.chembus.signals, which this plain-Python package may not
import; tests/chembus checks that every declared signal is one a curiosity subscriber hears.
"""

INTEGRATION_QUESTION = "curiosity.integration_question"
CAPABILITY_QUESTION = "curiosity.capability_question"
KNOWLEDGE_QUESTION = "curiosity.knowledge_question"
EXPLORATION_QUESTION = "curiosity.exploration_question"
