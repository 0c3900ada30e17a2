"""The delivery log on the service's database: per-subscription offsets, secrets and dead letters."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from metrology.eventkit.ids import new_id
from metrology.webhooks.adapters.tables import dead_letters, delivery_offsets, subscription_secrets, subscriptions
from metrology.webhooks.application.delivery import Failure, QueuedLetter, Record

TopicPartitionKey = tuple[str, int]


class SqlAlchemyDeliveryLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def offsets(self, subscription_id: str) -> dict[TopicPartitionKey, int]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(delivery_offsets).where(delivery_offsets.c.subscription_id == subscription_id)
            )
            return {(row.topic, row.partition): row.next_offset for row in rows}

    async def start_at(self, subscription_id: str, positions: dict[TopicPartitionKey, int]) -> None:
        """Record where the lanes of a subscription start (so a restart finds the same place)."""
        async with self.engine.begin() as connection:
            for (topic, partition), offset in positions.items():
                await _upsert(connection, subscription_id, topic, partition, offset)

    async def advance(self, subscription_id: str, topic: str, partition: int, next_offset: int, delivered: int) -> None:
        async with self.engine.begin() as connection:
            await _upsert(connection, subscription_id, topic, partition, next_offset)
            if delivered:
                await connection.execute(
                    sa.update(subscriptions)
                    .where(subscriptions.c.subscription_id == subscription_id)
                    .values(delivered=subscriptions.c.delivered + delivered, last_delivered_at=datetime.now(UTC))
                )

    async def dead_letter(self, subscription_id: str, record: Record, body: bytes, failure: Failure) -> None:
        envelope = record.envelope
        assert envelope is not None
        error = (failure.error or f"HTTP {failure.status}")[:500]
        async with self.engine.begin() as connection:
            await connection.execute(
                sa.insert(dead_letters).values(
                    dead_letter_id=new_id(),
                    subscription_id=subscription_id,
                    topic=record.topic,
                    partition=record.partition,
                    offset=record.offset,
                    event_id=envelope.id,
                    event_type=envelope.type,
                    stream_id=envelope.stream_id,
                    body=body,
                    attempts=failure.attempts,
                    last_status=failure.status,
                    last_error=error,
                    state="dead",
                    dead_lettered_at=datetime.now(UTC),
                )
            )
            await _upsert(connection, subscription_id, record.topic, record.partition, record.offset + 1)
            await connection.execute(
                sa.update(subscriptions)
                .where(subscriptions.c.subscription_id == subscription_id)
                .values(dead_lettered=subscriptions.c.dead_lettered + 1, last_error=error)
            )

    async def secrets(self, subscription_id: str) -> list[str]:
        now = datetime.now(UTC)
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(subscription_secrets.c.secret, subscription_secrets.c.valid_until)
                .where(subscription_secrets.c.subscription_id == subscription_id)
                .order_by(subscription_secrets.c.created_at.desc())
            )
            return [row.secret for row in rows if row.valid_until is None or _aware(row.valid_until) > now]

    async def queued(self, subscription_id: str) -> list[QueuedLetter]:
        async with self.engine.connect() as connection:
            rows = await connection.execute(
                sa.select(dead_letters.c.dead_letter_id, dead_letters.c.event_id, dead_letters.c.body)
                .where(dead_letters.c.subscription_id == subscription_id, dead_letters.c.state == "queued")
                .order_by(dead_letters.c.dead_lettered_at, dead_letters.c.offset)
            )
            return [QueuedLetter(row.dead_letter_id, row.event_id, row.body) for row in rows]

    async def settle(self, dead_letter_id: str, failure: Failure | None) -> None:
        if failure is None:
            values: dict[str, object] = {"state": "redelivered", "redelivered_at": datetime.now(UTC)}
        else:
            values = {"state": "dead", "last_status": failure.status, "last_error": (failure.error or "")[:500]}
            values["attempts"] = dead_letters.c.attempts + failure.attempts
        async with self.engine.begin() as connection:
            await connection.execute(
                sa.update(dead_letters).where(dead_letters.c.dead_letter_id == dead_letter_id).values(**values)
            )


async def _upsert(connection: AsyncConnection, subscription_id: str, topic: str, partition: int, offset: int) -> None:
    key = (
        (delivery_offsets.c.subscription_id == subscription_id)
        & (delivery_offsets.c.topic == topic)
        & (delivery_offsets.c.partition == partition)
    )
    updated = await connection.execute(sa.update(delivery_offsets).where(key).values(next_offset=offset))
    if updated.rowcount == 0:
        await connection.execute(
            sa.insert(delivery_offsets).values(
                subscription_id=subscription_id, topic=topic, partition=partition, next_offset=offset
            )
        )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
