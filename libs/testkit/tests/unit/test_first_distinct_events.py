"""Reading a topic's first events as an outside consumer: a record delivered twice is kept once."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from metrology.eventkit.envelope import Envelope
from metrology.testkit.records import first_distinct_events


def record(event_id: str, stream: str) -> SimpleNamespace:
    envelope = Envelope(
        id=event_id,
        type="vn.metrology.registry.enterprise-registered.v1",
        source="/metrology/registry",
        time=datetime(2025, 3, 1, tzinfo=UTC),
        stream_id=stream,
        stream_version=1,
        tenant="83",
        correlation_id="c-1",
        data={"name": event_id},
    )
    key, value, headers = envelope.to_kafka()
    return SimpleNamespace(key=key, value=value, headers=headers)


class IdleAfterEachPoll:
    """A consumer that yields one poll's records per iteration, as kafka-python's does with `consumer_timeout_ms`."""

    def __init__(self, *polls: list[SimpleNamespace]) -> None:
        self.polls = list(polls)

    def __iter__(self):
        return iter(self.polls.pop(0) if self.polls else [])


def test_a_partition_read_again_from_its_start_counts_each_event_once_in_first_read_order():
    a1, a2, b1 = record("a1", "provider-1"), record("a2", "provider-1"), record("b1", "enterprise-1")
    consumer = IdleAfterEachPoll([a1, a2], [a1, a2, b1])

    events = first_distinct_events(consumer, 3, timeout=5)

    assert [e["id"] for e in events] == ["a1", "a2", "b1"]
    assert events[2]["_key"] == "enterprise-1" and events[2]["data"] == {"name": "b1"}


def test_reading_stops_at_the_count_and_returns_fewer_when_the_time_runs_out():
    consumer = IdleAfterEachPoll([record("a1", "s"), record("a2", "s"), record("a3", "s")])
    assert [e["id"] for e in first_distinct_events(consumer, 2, timeout=5)] == ["a1", "a2"]
    assert first_distinct_events(IdleAfterEachPoll([record("a1", "s")]), 2, timeout=0.2)[0]["id"] == "a1"
