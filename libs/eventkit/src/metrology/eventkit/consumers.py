"""FastStream wiring for projections: a batch subscriber that commits offsets only after the read model.

FastStream's Kafka default (ACK_FIRST) commits before the handler runs, i.e. at most once. Projections use
NACK_ON_ERROR: the offset is committed after the handler returns, and an error rewinds the partitions to the
batch's first record so nothing is lost; duplicates that follow are dropped by the tracking table.

A partition the runner holds (a record newer than this reader knows) is rewound to that record and paused, so
the offset committed for it is the held record's: an upgraded consumer resumes exactly there.

Static group membership (KIP-345): with a `group_instance_id`, a consumer killed and restarted under the same id
takes its partitions back at once, without waiting out its old session or a rebalance.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.projector import DeadLetter, Held, ProjectorRunner

log = logging.getLogger(__name__)

DLQ_REASON = "dlq-reason"
DLQ_SOURCE_TOPIC = "dlq-source-topic"
DLQ_SOURCE_PARTITION = "dlq-source-partition"
DLQ_SOURCE_OFFSET = "dlq-source-offset"


def new_broker(connection: KafkaConnection, **options: Any) -> KafkaBroker:
    options.setdefault("log_level", logging.DEBUG)  # one line per message is too much at INFO
    return KafkaBroker(**connection.faststream_options(), **options)


class BrokerDeadLetterSink:
    """Publishes unreadable records to a dead-letter topic: value, key and headers unchanged, plus the reason.

    Keeping the original headers keeps a binary-mode CloudEvent whole, so `redrive` can put it back as it was.
    """

    def __init__(self, broker: KafkaBroker, topic: str) -> None:
        self.broker = broker
        self.topic = topic

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            record = letter.record
            original = {name: value.decode("utf-8", "replace") for name, value in record.headers or ()}
            await self.broker.publish(
                record.value or b"",
                topic=self.topic,
                key=record.key,
                headers=original
                | {
                    DLQ_REASON: letter.reason[:2000],
                    DLQ_SOURCE_TOPIC: record.topic,
                    DLQ_SOURCE_PARTITION: str(record.partition),
                    DLQ_SOURCE_OFFSET: str(record.offset),
                },
            )


def subscribe_projection(
    broker: KafkaBroker,
    runner: ProjectorRunner,
    topics: Sequence[str],
    group_id: str,
    *,
    max_records: int = 1000,
    group_instance_id: str | None = None,
    idle_wait_ms: int = 10,
    latecomers_wait_ms: int = 3,
) -> None:
    """Feed `runner` from `topics` as consumer group `group_id`, from the earliest offset on first start.

    A fetch returns the records already there at once; with none, it waits `idle_wait_ms` and FastStream's batch
    subscriber then sleeps as long again before the next fetch. That sleep is time a record arriving at an idle
    projection waits for nothing (with FastStream's 100 ms default, ~100 ms one command at a time), so it is kept
    short: an idle consumer wakes 50 times a second, which costs little.

    Each batch also takes the records that reached the broker while the batch before was being applied (waiting
    up to `latecomers_wait_ms` for them): see `_latecomers`."""

    @broker.subscriber(
        *topics,
        group_id=group_id,
        group_instance_id=group_instance_id or None,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=idle_wait_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_records_as_they_are,
        title=f"{group_id}",
        description=f"Projection '{runner.projection.name}' folding {', '.join(topics)}",
    )
    async def project(_body: Any, message: KafkaMessage) -> None:
        given = _records_of(message)
        late = await _latecomers(message.consumer, max_records - len(given), latecomers_wait_ms)
        try:
            result = await runner.handle((*given, *late))
        except BaseException:
            rewind_latecomers(message.consumer, late, given)
            raise
        for held in result.held:
            _hold(message, held)


def _records_of(message: KafkaMessage) -> tuple[Any, ...]:
    records = message.raw_message
    return tuple(records) if isinstance(records, tuple | list) else (records,)


async def _latecomers(consumer: Any, room: int, wait_ms: int) -> tuple[Any, ...]:
    """The records that reached the broker while the batch before was being applied, up to `room` of them.

    aiokafka keeps one fetch in flight per broker, and none while records it fetched wait to be taken. The fetch
    sent when the batch before was taken returned with the first record to arrive while that batch was applied;
    the records after it were not fetched, and would wait a whole batch more. Taking this batch sent the next
    fetch: it answers at once with those records, so a short wait takes them into this batch (at a hundred
    records a second and 25 ms a batch, a record's wait for its batch fell from 50 to 19 ms, median). With
    nothing more at the broker, the wait is all this costs."""
    if room <= 0 or wait_ms <= 0:
        return ()
    more = await consumer.getmany(timeout_ms=wait_ms, max_records=room)
    return tuple(record for records in more.values() for record in records)


def rewind_latecomers(consumer: Any, late: Sequence[Any], given: Sequence[Any]) -> None:
    """After a failed batch, rewind the partitions only the latecomers came from to their first record (FastStream
    rewinds those of the records it gave), so none is committed past unapplied."""
    mine = {(record.topic, record.partition) for record in given}
    earliest: dict[tuple[str, int], int] = {}
    for record in late:
        where = (record.topic, record.partition)
        if where not in mine:
            earliest[where] = min(record.offset, earliest.get(where, record.offset))
    for (topic, partition), offset in earliest.items():
        consumer.seek(TopicPartition(topic, partition), offset)


async def _records_as_they_are(message: KafkaMessage) -> None:
    """No body decoding: the runner reads the records themselves (`message.raw_message`), so FastStream's JSON
    decoding of every record of a batch (and its headers again) would be work thrown away."""
    return None


def _hold(message: KafkaMessage, held: Held) -> None:
    """Rewind the partition to the held record and pause it; the commit that follows stops there."""
    partition = TopicPartition(held.topic, held.partition)
    consumer: Any = message.consumer
    consumer.seek(partition, held.offset)
    consumer.pause(partition)
    log.error("consumer paused %s[%s] at offset %s: %s", held.topic, held.partition, held.offset, held.reason)
