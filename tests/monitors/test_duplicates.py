"""DUPLICATE_RESPONSIBILITY: the same body in several modules (monitors/duplicates.py)."""

from monitor_helpers import findings

BODY = """
def {name}(items, limit):
    total = 0
    for {item} in items:
        if {item}.size > limit:
            total += {item}.size * 2
        else:
            total -= 1
    return total
"""


def test_duplicate_bodies_in_different_modules():
    files = {"a.py": BODY.format(name="f", item="x"), "b.py": BODY.format(name="g", item="y")}
    assert findings(files) == [
        ("DEAD_CODE", "symbol.a.f"),
        ("DEAD_CODE", "symbol.b.g"),
        ("DUPLICATE_RESPONSIBILITY", "symbol.a.f"),
    ]


def test_different_attributes_or_tiny_bodies_are_not_duplicates():
    other = BODY.format(name="g", item="y").replace(".size", ".weight")
    dead = [("DEAD_CODE", "symbol.a.f"), ("DEAD_CODE", "symbol.b.g")]
    assert findings({"a.py": BODY.format(name="f", item="x"), "b.py": other}) == dead
    tiny = "def f(self):\n    return self.x\n"
    assert findings({"a.py": tiny, "b.py": tiny}) == [
        ("DEAD_CODE", "symbol.a.f"),
        ("DEAD_CODE", "symbol.b.f"),
    ]


def test_cloned_class_is_one_question_not_one_per_method():
    cls = "class K:\n" + "\n".join("    " + line for line in BODY.format(name="m", item="i").splitlines())
    cls = cls.replace("(items", "(self, items")
    assert findings({"a.py": cls, "b.py": cls}) == [
        ("DEAD_CODE", "symbol.a.K"),
        ("DEAD_CODE", "symbol.a.K.m"),
        ("DEAD_CODE", "symbol.b.K"),
        ("DEAD_CODE", "symbol.b.K.m"),
        ("DUPLICATE_RESPONSIBILITY", "symbol.a.K"),
        ("MISSING_DOCSTRINGS", "module.a"),
        ("MISSING_DOCSTRINGS", "module.b"),
    ]
