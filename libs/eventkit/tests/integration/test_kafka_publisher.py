"""The relay's producer (librdkafka) on the real broker: records land on the partition every earlier relay chose for
their stream, in store order, and a batch the broker cannot take fails instead of being reported as sent."""

from datetime import date

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.partitioner import DefaultPartitioner

from metrology.eventkit import EventContext
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.relay import KafkaEventPublisher, PublishError
from metrology.eventkit.store import Position, RecordedEvent
from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.testkit.sample_events import ThingCounted

pytestmark = pytest.mark.integration

CONTEXT = EventContext(tenant="83")
STREAMS = [f"instrument-{n:04d}" for n in range(60)]


def recorded_events(per_stream: int) -> list[RecordedEvent]:
    events = []
    for version in range(1, per_stream + 1):
        for stream in STREAMS:
            position = Position(1000 + version, len(events) + 1)
            event = ThingCounted(occurred_on=date(2025, 5, 1), thing=stream, amount=version)
            envelope = Envelope.wrap(event, source="/test", stream_id=stream, stream_version=version, context=CONTEXT)
            events.append(RecordedEvent(position, stream, envelope.type, None, envelope.to_json()))
    return events


async def read_back(kafka: KafkaConnection, topic: str, expected: int) -> list:
    consumer = AIOKafkaConsumer(topic, **kafka.aiokafka_options(), auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    records: list = []
    try:
        while len(records) < expected:
            batches = await consumer.getmany(timeout_ms=5000)
            if not batches:
                break
            records += [record for batch in batches.values() for record in batch]
    finally:
        await consumer.stop()
    return records


async def test_each_stream_lands_on_the_partition_the_java_and_aiokafka_partitioners_choose_in_version_order(
    kafka, topic
):
    ensure_topics(kafka, [TopicSpec(topic, partitions=3)])
    events = recorded_events(per_stream=4)
    publisher = KafkaEventPublisher(kafka)
    await publisher.start()
    try:
        await publisher.publish(topic, events[:120])
        await publisher.publish(topic, events[120:])
    finally:
        await publisher.stop()

    records = await read_back(kafka, topic, len(events))
    assert len(records) == len(events)
    partitioner, partitions = DefaultPartitioner(), [0, 1, 2]
    versions: dict[str, list[int]] = {}
    for record in records:
        assert record.partition == partitioner(record.key, partitions, partitions)
        headers = dict(record.headers)
        versions.setdefault(record.key.decode(), []).append(int(headers["ce_streamversion"]))
    assert {len(seen) for seen in versions.values()} == {4}
    assert all(seen == [1, 2, 3, 4] for seen in versions.values())
    assert len({record.partition for record in records}) == 3


async def test_a_batch_the_broker_cannot_take_raises_once_its_delivery_timeout_has_passed(kafka):
    publisher = KafkaEventPublisher(kafka, delivery_timeout_ms=1500)
    await publisher.start()
    try:
        with pytest.raises(PublishError, match="3 of 3 records were not delivered"):
            await publisher.publish("metrology-no-such-topic-for-the-relay", recorded_events(per_stream=1)[:3])
    finally:
        await publisher.stop()
