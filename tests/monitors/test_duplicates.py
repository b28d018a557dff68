"""DUPLICATE_RESPONSIBILITY: the same body in several modules (monitors/duplicates.py)."""

from tests.monitors.monitor_helpers import findings, questions

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


# django/db/backends/{oracle,postgresql}/operations.py (5.2): the same shape, different SQL
SUBTRACT = '''"""Operations."""
class DatabaseOperations(BaseDatabaseOperations):
    """Database operations."""

    def subtract_temporals(self, internal_type, lhs, rhs):
        """Subtract."""
        if internal_type == "DateField":
            lhs_sql, lhs_params = lhs
            rhs_sql, rhs_params = rhs
            params = (*lhs_params, *rhs_params)
            return (SQL % (lhs_sql, rhs_sql), params)
        return super().subtract_temporals(internal_type, lhs, rhs)
'''
ORACLE = SUBTRACT.replace("SQL", '''"NUMTODSINTERVAL(TO_NUMBER(%s - %s), 'DAY')"''')
POSTGRES = SUBTRACT.replace("SQL", '''"(interval '1 day' * (%s - %s))"''')


def test_bodies_with_different_constants_are_not_clones():
    files = {"oracle/operations.py": ORACLE, "postgresql/operations.py": POSTGRES}
    assert findings(files) == []
    assert findings({**files, "mysql/operations.py": ORACLE}) == [
        ("DUPLICATE_RESPONSIBILITY", "symbol.mysql.operations.DatabaseOperations")
    ]


# django/utils/inspect.py (5.2), vendored whole into two places
INSPECT = '''"""Inspection helpers."""
import functools
import inspect


@functools.lru_cache(maxsize=512)
def _get_func_parameters(func, remove_first):
    parameters = tuple(inspect.signature(func).parameters.values())
    if remove_first:
        parameters = parameters[1:]
    return parameters


def _get_callable_parameters(meth_or_func):
    is_method = inspect.ismethod(meth_or_func)
    func = meth_or_func.__func__ if is_method else meth_or_func
    return _get_func_parameters(func, remove_first=is_method)


def get_func_args(func):
    """Positional and keyword parameter names."""
    params = _get_callable_parameters(func)
    return [
        param.name
        for param in params
        if param.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD
    ]


def func_accepts_kwargs(func):
    """Return True if function 'func' accepts keyword arguments **kwargs."""
    return any(p for p in _get_callable_parameters(func) if p.kind == p.VAR_KEYWORD)


def method_has_no_args(meth):
    """Return True if a method only accepts 'self'."""
    count = len([p for p in _get_callable_parameters(meth) if p.kind == p.POSITIONAL_OR_KEYWORD])
    return count == 0 if inspect.ismethod(meth) else count == 1
'''
USERS = "from app.vendor.inspect import get_func_args, func_accepts_kwargs, method_has_no_args\nimport lib.inspect\n"


def test_a_file_copied_whole_is_one_question_for_the_pair_of_files():
    files = {"app/vendor/inspect.py": INSPECT, "lib/inspect.py": INSPECT, "main.py": USERS}
    assert findings(files) == [("DUPLICATE_RESPONSIBILITY", "module.app.vendor.inspect")]
    (question,) = [q for q in questions(files) if q.hypothesis == "DUPLICATE_RESPONSIBILITY"]
    assert question.evidence == ("app/vendor/inspect.py:1", "lib/inspect.py:1")


def test_a_module_sharing_one_function_with_a_copied_file_hears_about_it_once():
    two = BODY.format(name="f", item="x") + BODY.format(name="g", item="y").replace(".size", ".weight")
    files = {
        "a.py": two,
        "b.py": two,
        "c.py": BODY.format(name="h", item="z"),
        "main.py": "from a import f, g\nfrom b import f, g\nfrom c import h\n",
    }
    assert findings(files) == [
        ("DUPLICATE_RESPONSIBILITY", "module.a"),  # a.py and b.py
        ("DUPLICATE_RESPONSIBILITY", "symbol.a.f"),  # a.f standing for b.f too, and c.h
        ("MISSING_DOCSTRINGS", "module.a"),
        ("MISSING_DOCSTRINGS", "module.b"),
    ]
    (shared,) = [q for q in questions(files) if q.capability_key == "symbol.a.f"]
    assert shared.evidence == ("a.py:2", "c.py:2")
