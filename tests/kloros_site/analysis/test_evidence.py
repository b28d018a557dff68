"""The pages find a file's questions by joining its postings to the questions of the same keys.
That holds only if every file a question cites posts under the question's key: checked here on
real trees, with every monitor."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from kloros_site.analysis.evidence import can_ask, locations
from monitors.scan import scan_tree

REPO = Path(__file__).resolve().parents[3]


STDLIB = Path(sysconfig.get_paths()["stdlib"])


@pytest.mark.parametrize(
    "root", [REPO, STDLIB / "idlelib", STDLIB / "email"], ids=["this-repo", "idlelib", "email"]
)
def test_every_cited_file_posts_under_the_question_key(root):
    store, _ = scan_tree(root)
    checked = 0
    for key, questions in store.by_key.items():
        assert can_ask(key)  # the pages join only keys that can ask
        posting = set(store.index.get(key, {}))
        for question in questions.values():
            for loc in locations(question.evidence):
                assert loc.path in posting, (
                    f"{question.hypothesis} {question.id} cites {loc} but it does not post under {key}"
                )
                checked += 1
    assert checked > 20  # the trees do ask questions
