from tests.monitors.monitor_helpers import asks, findings, questions

# -- ORPHANED_QUEUE / ORPHANED_CONSUMER ------------------------------------------------


def test_orphaned_queue():
    assert findings({"a.py": 'emit("curiosity.x")'}) == [("ORPHANED_QUEUE", "channel.curiosity.x")]


def test_consumer_in_another_file_resolves_orphaned_queue():
    assert not asks({"a.py": 'emit("curiosity.x")', "b.py": 'ChemSub("curiosity.x")'}, "ORPHANED_QUEUE")


def test_keyword_topic_counts_as_consumer():  # the seed missed ChemSub(topic=...): 10 of 16 false
    assert not asks({"a.py": 'emit("t.x")', "b.py": 'ChemSub(topic="t.x")'}, "ORPHANED_QUEUE")


def test_publish_signal_keyword_and_chempub_are_producers():
    assert findings({"a.py": 'publish(signal="t.a")'}) == [("ORPHANED_QUEUE", "channel.t.a")]
    assert findings({"a.py": 'ChemPub().emit("t.b")'}) == [("ORPHANED_QUEUE", "channel.t.b")]


def test_append_is_not_a_producer():  # the seed counted any .append() as a producer
    assert not questions({"a.py": 'queue.append("t.x")\nitems.put("t.y")'})


def test_wildcard_subscriptions_follow_amqp_semantics():
    assert not asks({"a.py": 'emit("c.x")', "b.py": 'subscribe("c.*")'}, "ORPHANED_QUEUE")
    assert not asks({"a.py": 'emit("c.x.y")', "b.py": 'subscribe("c.#")'}, "ORPHANED_QUEUE")
    assert not asks({"a.py": 'emit("c.x.y")', "b.py": 'subscribe("#")'}, "ORPHANED_QUEUE")
    assert findings({"a.py": 'emit("c.x.y")', "b.py": 'subscribe("c.*")'}) == [
        ("ORPHANED_CONSUMER", "channel.c.*"),
        ("ORPHANED_QUEUE", "channel.c.x.y"),
    ]


def test_orphaned_consumer():
    assert findings({"b.py": 'ChemSub("t.lonely")'}) == [("ORPHANED_CONSUMER", "channel.t.lonely")]
    assert not asks({"a.py": 'emit("t.x")', "b.py": 'ChemSub("t.x")'}, "ORPHANED_CONSUMER")


def test_wildcard_consumer_matching_nothing():
    assert findings({"b.py": 'ChemSub("t.*")', "a.py": 'emit("u.x")'}) == [
        ("ORPHANED_CONSUMER", "channel.t.*"),
        ("ORPHANED_QUEUE", "channel.u.x"),
    ]
    assert not asks({"b.py": 'ChemSub("t.*")', "a.py": 'emit("t.x")'}, "ORPHANED_CONSUMER")


def test_channels_wired_only_inside_tests_ask_nothing():
    assert not questions({"tests/test_bus.py": 'emit("t.x")\nChemSub("t.y")'})


def test_non_literal_and_non_channel_strings_are_ignored():
    assert not questions({"a.py": 'emit(name)\nemit("not a channel name")\nhandler.emit(record)'})
