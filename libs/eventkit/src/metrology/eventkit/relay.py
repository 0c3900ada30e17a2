"""The outbox relay: publishes committed events to Kafka in store order and records how far it got.

At-least-once by design: a crash between publishing and recording progress re-sends a batch, and consumers
drop the duplicates by event id. The relay wakes when a commit is signalled (LISTEN/NOTIFY on PostgreSQL, an
in-process signal on SQLite) and polls as a fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Protocol

import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.store import NOTIFY_CHANNEL, EventStore, Position, RecordedEvent, metadata

log = logging.getLogger(__name__)

relay_checkpoints = sa.Table(
    "relay_checkpoints",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("txid", sa.BigInteger, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
)


class EventPublisher(Protocol):
    async def publish(self, topic: str, events: Sequence[RecordedEvent]) -> None:
        """Publish every event, keyed by stream id, and return only once the broker has them all."""


class KafkaEventPublisher:
    """An idempotent producer (acks=all) that ships the stored CloudEvents bytes unchanged."""

    def __init__(self, connection: KafkaConnection, linger_ms: int = 5) -> None:
        self._producer = AIOKafkaProducer(
            **connection.aiokafka_options(),
            acks="all",
            enable_idempotence=True,
            linger_ms=linger_ms,
            max_batch_size=512 * 1024,
            client_id="metrology-relay",
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish(self, topic: str, events: Sequence[RecordedEvent]) -> None:
        pending = []
        for recorded in events:
            key = recorded.stream_id.encode()
            headers = recorded.kafka_headers()
            pending.append(await self._producer.send(topic, value=recorded.payload, key=key, headers=headers))
        await asyncio.gather(*pending)


class CommitSignal:
    """Wakes the relay when events were committed: NOTIFY on PostgreSQL, an asyncio.Event in process."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()
        self._event.clear()


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        store: EventStore,
        publisher: EventPublisher,
        topic: str,
        *,
        name: str = "kafka",
        batch_size: int = 5000,
        poll_interval: float = 1.0,
        signal: CommitSignal | None = None,
    ) -> None:
        self.engine = engine
        self.store = store
        self.publisher = publisher
        self.topic = topic
        self.name = name
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.signal = signal or CommitSignal()
        self._one_pass_at_a_time = asyncio.Lock()

    async def checkpoint(self) -> Position:
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(
                    sa.select(relay_checkpoints.c.txid, relay_checkpoints.c.position).where(
                        relay_checkpoints.c.name == self.name
                    )
                )
            ).first()
        return Position(row.txid, row.position) if row else Position()

    async def publish_pending(self) -> int:
        """Publish every committed event not yet published; returns how many were sent."""
        async with self._one_pass_at_a_time:
            return await self._publish_pending()

    async def _publish_pending(self) -> int:
        sent = 0
        after = await self.checkpoint()
        while True:
            async with self.engine.connect() as connection:
                batch = await self.store.read_all(connection, after, self.batch_size)
            if not batch:
                return sent
            await self.publisher.publish(self.topic, batch)
            after = batch[-1].position
            await self._record(after)
            sent += len(batch)

    async def run(self, stop: asyncio.Event) -> None:
        listener = asyncio.create_task(self._listen(stop)) if self.engine.dialect.name == "postgresql" else None
        try:
            while not stop.is_set():
                try:
                    await self.publish_pending()
                except Exception:
                    log.exception("relay %s failed; retrying", self.name)
                    await asyncio.sleep(self.poll_interval)
                await self.signal.wait(self.poll_interval)
        finally:
            if listener:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    async def _record(self, position: Position) -> None:
        async with self.engine.begin() as connection:
            updated = await connection.execute(
                sa.update(relay_checkpoints)
                .where(relay_checkpoints.c.name == self.name)
                .values(txid=position.txid, position=position.position)
            )
            if updated.rowcount == 0:
                await connection.execute(
                    sa.insert(relay_checkpoints).values(name=self.name, txid=position.txid, position=position.position)
                )

    async def _listen(self, stop: asyncio.Event) -> None:
        """Hold a LISTEN connection open and turn every NOTIFY into a wake-up."""
        while not stop.is_set():
            try:
                async with self.engine.connect() as connection:
                    raw = await connection.get_raw_connection()
                    driver = raw.driver_connection
                    assert driver is not None
                    await driver.add_listener(NOTIFY_CHANNEL, lambda *_: self.signal.notify())
                    await stop.wait()
            except Exception:
                log.warning("relay %s lost its LISTEN connection; polling until it is back", self.name)
                await asyncio.sleep(self.poll_interval)
