"""The monitors' tables: every registered monitor declares hypotheses with a routable signal,
registration is discovered, and every hypothesis is pinned by some snippet test's findings."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from monitors import MONITORS, signal_of
from monitors.config import Config
from monitors.exploration import RUNTIME
from monitors.registry import HYPOTHESES, NO_QUESTIONS, Hypothesis, Monitor
from tests.monitors.monitor_helpers import findings, questions

HERE = Path(__file__).parent


def concrete_monitor_classes() -> set[type]:
    found, todo = set(), [Monitor]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.id and cls.__module__.startswith("monitors."):
            found.add(cls)
    return found


def test_every_monitor_module_is_registered_by_discovery():
    assert {type(m) for m in MONITORS.values()} == concrete_monitor_classes()
    assert {"integration", "capability", "knowledge", "exploration"} <= set(MONITORS)


def test_every_hypothesis_has_a_signal_and_belongs_to_one_monitor():
    for monitor_id, monitor in MONITORS.items():
        assert monitor.question_kinds, monitor_id
        if not monitor.hypotheses:  # posts facts only (suppress): the engine evaluates none of its keys
            assert monitor.question_kinds == NO_QUESTIONS, monitor_id
        for hypothesis in monitor.hypotheses:
            assert signal_of(monitor_id, hypothesis.id) == hypothesis.signal
    ids = [h.id for m in MONITORS.values() for h in m.hypotheses]
    assert len(ids) == len(set(ids)) == len(HYPOTHESES)


@pytest.mark.parametrize(
    "bad",
    [
        {"signal": ""},
        {"signal": "curiosity"},
        {"signal": "curiosity.*"},
        {"severity": "critical"},
        {"id": "lower_case"},
    ],
)
def test_a_hypothesis_without_a_valid_signal_or_severity_is_refused(bad):
    fields = {"id": "SOME_QUESTION", "severity": "low", "template": "{x}?", "signal": "curiosity.x_question"}
    Hypothesis(**fields)
    with pytest.raises(ValueError):
        Hypothesis(**{**fields, **bad})


def expected_hypotheses() -> set[str]:
    """Hypothesis ids written as ("ID", subject) pairs in the monitor tests' expected findings."""
    found = set()
    for path in HERE.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Tuple)
                and len(node.elts) == 2
                and isinstance(node.elts[0], ast.Constant)
                and isinstance(node.elts[0].value, str)
            ):
                found.add(node.elts[0].value)
    return found


def test_every_hypothesis_appears_in_some_snippet_tests_expected_findings():
    runtime = {h.id for h in RUNTIME}  # asked from measurements, not from code: their tests are there
    missing = sorted(set(h for _, h in HYPOTHESES) - runtime - expected_hypotheses())
    assert missing == [], f"hypotheses no snippet test expects: {missing}"
    runtime_tests = (HERE.parent / "kloros_site" / "analysis" / "test_runtime.py").read_text()
    assert all(f'"{name}"' in runtime_tests for name in runtime)


def test_configured_severity_overrides_the_table():
    files = {"a.py": "def unused():\n    pass\n"}
    (question,) = questions(files)
    assert question.severity == "low"
    config = Config(severity=(("DEAD_CODE", "high"),))
    (question,) = questions(files, config)
    assert question.severity == "high"
    assert findings(files, config) == [("DEAD_CODE", "symbol.a.unused")]
