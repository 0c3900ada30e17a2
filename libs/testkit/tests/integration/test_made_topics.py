"""The topics a test session made are deleted at its end: those named by `unique_topic` and `topic_prefix`, with the
topics named after them, and no other (another run on the same broker keeps its own)."""

from __future__ import annotations

import time

from kafka.admin import KafkaAdminClient, NewTopic

from metrology.eventkit.kafka import KafkaConnection
from metrology.testkit import infra


def topics_on(admin: KafkaAdminClient, names: set[str]) -> set[str]:
    return names & set(admin.list_topics())


def test_deleting_the_made_topics_deletes_those_named_after_them_and_leaves_the_others(kafka: KafkaConnection):
    prefix, topic = infra.topic_prefix("made"), infra.unique_topic("made")
    other = f"{prefix.rstrip('.')}x.metrology.registry.v1"  # begins like the prefix, without its dot
    ours = {f"{prefix}metrology.registry.v1", f"{prefix}metrology.registry.dlq.v1", topic, f"{topic}.dlq"}
    admin = KafkaAdminClient(**kafka.kafka_python_options())
    try:
        admin.create_topics([NewTopic(name, 1, 1) for name in [*ours, other]])
        assert topics_on(admin, {*ours, other}) == {*ours, other}

        deleted = infra.delete_topics_beginning_with(kafka.bootstrap_servers, [prefix, topic])

        assert deleted == len(ours)
        assert {prefix, topic} <= infra.made_topics()  # what the session deletes at its end
        deadline = time.monotonic() + 30
        while topics_on(admin, ours) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert topics_on(admin, {*ours, other}) == {other}
    finally:
        admin.delete_topics([other])
        admin.close()


def test_nothing_is_deleted_when_no_topic_was_made():
    assert infra.delete_topics_beginning_with("127.0.0.1:1", []) == 0  # no broker asked
