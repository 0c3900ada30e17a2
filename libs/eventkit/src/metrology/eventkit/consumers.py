"""FastStream wiring for projections: a batch subscriber that commits offsets only after the read model.

FastStream's Kafka default (ACK_FIRST) commits before the handler runs, i.e. at most once. Projections use
NACK_ON_ERROR: the offset is committed after the handler returns, and an error rewinds the partitions to the
batch's first record so nothing is lost; duplicates that follow are dropped by the tracking table.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.projector import DeadLetter, ProjectorRunner


def new_broker(connection: KafkaConnection, **options: Any) -> KafkaBroker:
    options.setdefault("log_level", logging.DEBUG)  # one line per message is too much at INFO
    return KafkaBroker(**connection.faststream_options(), **options)


class BrokerDeadLetterSink:
    """Publishes unreadable records, unchanged, to a dead-letter topic with the reason in headers."""

    def __init__(self, broker: KafkaBroker, topic: str) -> None:
        self.broker = broker
        self.topic = topic

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            record = letter.record
            await self.broker.publish(
                record.value or b"",
                topic=self.topic,
                key=record.key,
                headers={
                    "dlq-reason": letter.reason[:2000],
                    "dlq-source-topic": record.topic,
                    "dlq-source-partition": str(record.partition),
                    "dlq-source-offset": str(record.offset),
                },
            )


def subscribe_projection(
    broker: KafkaBroker,
    runner: ProjectorRunner,
    topics: Sequence[str],
    group_id: str,
    *,
    max_records: int = 1000,
) -> None:
    """Feed `runner` from `topics` as consumer group `group_id`, from the earliest offset on first start."""

    @broker.subscriber(
        *topics,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=100,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        title=f"{group_id}",
        description=f"Projection '{runner.projection.name}' folding {', '.join(topics)}",
    )
    async def project(_body: list[Any], message: KafkaMessage) -> None:
        records = message.raw_message
        await runner.handle(records if isinstance(records, tuple | list) else (records,))
