"""The workers honour `# kloros: ignore[...]` as the batch CLI does: the engine drops the question
when it is asked, so a comment added or removed resolves or reopens it in the database."""

import itertools

import pytest

from kloros_site.analysis.messages import FileVersion, sha256
from kloros_site.analysis.models import Question, Transition
from kloros_site.analysis.services import record

pytestmark = pytest.mark.django_db
ROOT = "/srv/tree"
PUB = "from bus import ChemPub; "
_seq = itertools.count(1)


def version(path: str, source: str) -> FileVersion:
    data = source.encode()
    return FileVersion(root=ROOT, path=path, seq=next(_seq), sha256=sha256(data), size=len(data), data=data)


def test_a_suppression_comment_resolves_and_its_removal_reopens_the_stored_question():
    record(version("p.py", PUB + 'ChemPub().emit("curiosity.a")\n'))
    record(version("q.py", "x = 1\n"))
    assert list(Question.objects.open().values_list("hypothesis", "evidence")) == [
        ("ORPHANED_QUEUE", ["p.py:1"])
    ]
    record(version("p.py", PUB + 'ChemPub().emit("curiosity.a")  # kloros: ignore[ORPHANED_QUEUE]\n'))
    assert not Question.objects.open().exists()
    record(version("p.py", PUB + 'ChemPub().emit("curiosity.a")  # kloros: ignore[DEAD_CODE]\n'))
    assert list(Question.objects.open().values_list("hypothesis", "evidence")) == [
        ("ORPHANED_QUEUE", ["p.py:1"])
    ]
    assert list(Transition.objects.order_by("id").values_list("kind", flat=True)) == [
        "opened",
        "resolved",
        "opened",
    ]
