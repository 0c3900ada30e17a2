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
) -> None:
    """Feed `runner` from `topics` as consumer group `group_id`, from the earliest offset on first start.

    A fetch returns the records already there at once; with none, it waits `idle_wait_ms` and FastStream's batch
    subscriber then sleeps as long again before the next fetch. That sleep is time a record arriving at an idle
    projection waits for nothing (with FastStream's 100 ms default, ~100 ms one command at a time), so it is kept
    short: an idle consumer wakes 50 times a second, which costs little."""

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
        records = message.raw_message
        result = await runner.handle(records if isinstance(records, tuple | list) else (records,))
        for held in result.held:
            _hold(message, held)


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
