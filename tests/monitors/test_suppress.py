"""`# kloros: ignore[...]` comments: read from comments only, honoured by the engine (so by the
watcher and the workers too), and incremental == batch when comments come and go."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitors import MemoryStore, Question, apply
from monitors.config import Config
from monitors.scan import unused_suppressions
from monitors.suppress import ALL, scan_python, scan_text
from tests.monitors.monitor_helpers import batch, postings
from tests.monitors.test_incremental import replay
from tests.monitors.tree_strategies import PATHS, content, python_statement

PUB = "from bus import ChemPub; "  # a ChemBus publisher from outside the tree, on the line it is used


def asked(store: MemoryStore) -> list[tuple[str, tuple[str, ...]]]:
    return sorted((q.hypothesis, q.evidence) for q in store.all_questions().values())


def test_directives_are_read_from_comments_only():
    source = b"""\
x = 1  # kloros: ignore[DEAD_CODE]
y = 2  # kloros: ignore[dead_code, ORPHANED_QUEUE ]
z = 3  # kloros: ignore
w = 4  # explained elsewhere; kloros: ignore[OPEN_TODO]
s = "# kloros: ignore[DEAD_CODE] is text in a string"
t = '''
# kloros: ignore  (inside a triple-quoted string)
'''
u = 5  # kloros: ignore[]
v = 6  # kloros: ignored words, no directive
"""
    assert scan_python(source) == {
        1: ("DEAD_CODE",),
        2: ("DEAD_CODE", "ORPHANED_QUEUE"),
        3: (ALL,),
        4: ("OPEN_TODO",),
        9: (ALL,),
    }
    assert scan_python(b"x = 1  # no marker at all\n") == {}
    assert scan_python(b"x = 1  # quoting `# kloros: ignore[...]` is no directive\n") == {}


def test_documents_and_configuration_files_suppress_in_their_comments_only():
    markdown = (
        "See `pkg.gone`. <!-- kloros: ignore[STALE_KNOWLEDGE] -->\n"
        "Write `# kloros: ignore[DEAD_CODE]` on the line.\n"  # documentation about suppressions
        "    def hook():  # kloros: ignore[DEAD_CODE]\n"  # an example in a code block
        "Or `<!-- kloros: ignore -->` in Markdown.\n"
    )
    assert scan_text(markdown, ".md") == {1: ("STALE_KNOWLEDGE",)}
    assert scan_text("Uses :func:`pkg.gone`.\n\n.. kloros: ignore[STALE_KNOWLEDGE]\n", ".rst") == {
        3: ("STALE_KNOWLEDGE",)
    }
    toml = '[entry]\nrun = "pkg.gone:main"  # kloros: ignore[MISSING_CAPABILITY]\nnote = "kloros: ignore"\n'
    assert scan_text(toml, ".toml") == {2: ("MISSING_CAPABILITY",)}
    assert scan_text("[entry]\n; kloros: ignore\n", ".cfg") == {2: (ALL,)}


def test_a_comment_on_an_evidence_line_drops_that_hypothesis_only():
    store = batch({
        "a.py": """\
            from bus import ChemPub; ChemPub().emit("one.x")  # kloros: ignore[ORPHANED_QUEUE]
            ChemPub().emit("two.x")  # kloros: ignore[DEAD_CODE]
            ChemPub().emit("three.x")  # kloros: ignore
            def helper():  # kloros: ignore[DEAD_CODE]
                return 1
            """,
    })  # fmt: skip
    assert asked(store) == [("ORPHANED_QUEUE", ("a.py:2",))]


def test_a_comment_on_the_definition_line_drops_questions_pointing_elsewhere():
    files = {
        "pkg/__init__.py": "",
        "pkg/w.py": """\
            class Worker:  # kloros: ignore[UNINITIALIZED_COMPONENT]
                def run(self):
                    self.client.go()
            """,
        "pkg/use.py": "from pkg.w import Worker\nWorker().run()\n",
    }
    assert [h for h, _ in asked(batch(files)) if h == "UNINITIALIZED_COMPONENT"] == []
    files["pkg/w.py"] = files["pkg/w.py"].replace("  # kloros: ignore[UNINITIALIZED_COMPONENT]", "")
    assert [(h, e) for h, e in asked(batch(files)) if h == "UNINITIALIZED_COMPONENT"] == [
        ("UNINITIALIZED_COMPONENT", ("pkg/w.py:3",))
    ]


def test_unused_suppressions_are_found_per_id():
    files = {
        "a.py": PUB
        + 'ChemPub().emit("one.x")  # kloros: ignore[ORPHANED_QUEUE, DEAD_CODE]\nx = 1  # kloros: ignore\n',
        "b.md": "nothing here <!-- kloros: ignore[STALE_KNOWLEDGE] -->\n",
    }
    store = batch(files)
    assert asked(store) == []
    unused = sorted((q.hypothesis, q.evidence, q.question) for q in unused_suppressions(store, Config()))
    assert unused == [
        ("UNUSED_SUPPRESSION", ("a.py:1",), "'kloros: ignore[DEAD_CODE]' answers no question here - remove it?"),
        ("UNUSED_SUPPRESSION", ("a.py:2",), "'kloros: ignore' answers no question here - remove it?"),
        ("UNUSED_SUPPRESSION", ("b.md:1",),
         "'kloros: ignore[STALE_KNOWLEDGE]' answers no question here - remove it?"),
    ]  # fmt: skip


def test_reference_roots_are_read_but_never_asked_about():
    files = {
        "pkg/__init__.py": "",
        "pkg/a.py": PUB + 'ChemPub().emit("a.x")\n',
        "tools/run.py": PUB + 'ChemPub().emit("t.x")\n',
    }
    assert asked(batch(files)) == [
        ("ORPHANED_QUEUE", ("pkg/a.py:1",)),
        ("ORPHANED_QUEUE", ("tools/run.py:1",)),
    ]
    config = Config(reference_roots=("tools",))
    assert asked(batch(files, config)) == [("ORPHANED_QUEUE", ("pkg/a.py:1",))]
    files["tools/run.py"] += "x = 1  # kloros: ignore\n"  # not asked about, so not about this either
    assert unused_suppressions(batch(files, config), config) == []
    assert [q.evidence for q in unused_suppressions(batch(files), Config())] == [("tools/run.py:2",)]


def test_adding_and_removing_a_comment_re_evaluates_the_question():
    store = MemoryStore()
    apply(store, "pkg/__init__.py", postings("pkg/__init__.py", ""))
    opened = apply(store, "pkg/a.py", postings("pkg/a.py", PUB + 'ChemPub().emit("ch.one")\n'))
    (question,) = opened.opened
    apply(store, "pkg/b.py", postings("pkg/b.py", "x = 1\n"))
    delta = apply(
        store,
        "pkg/a.py",
        postings("pkg/a.py", PUB + 'ChemPub().emit("ch.one")  # kloros: ignore[ORPHANED_QUEUE]\n'),
    )
    assert delta.resolved == [question] and not delta.opened and store.all_questions() == {}
    delta = apply(
        store,
        "pkg/a.py",
        postings("pkg/a.py", PUB + 'ChemPub().emit("ch.one")  # kloros: ignore[DEAD_CODE]\n'),
    )
    assert [q.id for q in delta.opened] == [question.id]


COMMENTS = ["", "  # kloros: ignore", "  # kloros: ignore[ORPHANED_QUEUE]",
            "  # kloros: ignore[DEAD_CODE, UNINITIALIZED_COMPONENT, MISSING_WIRING]"]  # fmt: skip
comment = st.sampled_from(COMMENTS)


def render(lines: list[tuple[str, str]]) -> str:
    """Statements, each with a comment on its first line (a def, class, emit or import line)."""
    out = []
    for statement, note in lines:
        first, _, rest = statement.lstrip("\n").partition("\n")
        out.append(f"{first}{note}\n{rest}")
    return "".join(out)


python_lines = st.lists(st.tuples(python_statement, comment), max_size=6)
write = st.sampled_from(PATHS).flatmap(
    lambda p: st.tuples(st.just("write"), st.just(p), python_lines if p.endswith(".py") else content(p))
)
# the same statements with other comments: only the suppress postings change, nothing else
recomment = st.tuples(st.just("recomment"), st.sampled_from(PATHS), st.lists(comment, min_size=6, max_size=6))
delete = st.tuples(st.just("delete"), st.sampled_from(PATHS), st.just(""))
operations = st.lists(st.one_of(write, write, recomment, recomment, delete), min_size=1, max_size=20)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_incremental_equals_batch_while_suppressions_come_and_go(ops):
    files: dict[str, str] = {}
    statements: dict[str, list[tuple[str, str]]] = {}
    store = MemoryStore()
    seen: dict[str, Question] = {}
    for op, path, arg in ops:
        if op == "recomment" and path in statements:
            statements[path] = [
                (statement, note) for (statement, _), note in zip(statements[path], arg, strict=False)
            ]
            arg, op = statements[path], "write"
        if op == "write":
            if isinstance(arg, list):
                statements[path] = arg
                arg = render(arg)
            files[path] = arg
            replay(seen, apply(store, path, postings(path, arg)))
        elif op == "delete" and path in files:
            del files[path]
            statements.pop(path, None)
            replay(seen, apply(store, path, None))
    expected = batch(files, dedent=False).all_questions()
    assert store.all_questions() == expected
    assert seen == expected
