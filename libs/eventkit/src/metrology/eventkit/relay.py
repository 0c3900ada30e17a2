"""The outbox relay: publishes committed events to Kafka in store order and records how far it got.

At-least-once by design: a crash between publishing and recording progress re-sends a batch, and consumers
drop the duplicates by event id. The relay wakes when a commit is signalled (LISTEN/NOTIFY on PostgreSQL, an
in-process signal on SQLite) and polls as a fallback.

One relay per service publishes at a time: on PostgreSQL the active one holds a session advisory lock, and any
other waits as a hot standby until the lock is free (its holder died or stopped). The store, not the broker, is
the source of truth: when the topic holds fewer records than the relay has published (a wiped or re-formatted
broker, a recreated topic, a restored backup), the relay republishes from the start of the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from functools import cache
from typing import NamedTuple, Protocol

import sqlalchemy as sa
from confluent_kafka import KafkaError, Producer
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from metrology.eventkit.database import statements_alone
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.leases import RELAY_LOCK_CLASS, still_connected, wait_for_lock
from metrology.eventkit.store import NOTIFY_CHANNEL, EventStore, Position, RecordedEvent, metadata
from metrology.eventkit.topics import TopicNotReadyError, partition_ends

log = logging.getLogger(__name__)
HELD_BACK_FIRST_WAIT = 0.005  # seconds: a writer on the same server usually commits within milliseconds

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

    async def records_in(self, topic: str) -> int:
        """How many records the topic holds (the sum of its partitions' end offsets)."""


class PublishError(Exception):
    """The broker did not take every record of a batch (the relay publishes the batch again)."""


class KafkaEventPublisher:
    """An idempotent producer (acks=all) that ships the stored CloudEvents bytes unchanged.

    librdkafka (through confluent-kafka) builds, compresses and sends the record batches on its own threads, so the
    relay's Python thread only hands each record over. Records are partitioned by key with `murmur2_random`, the
    Java client's choice (and aiokafka's), so a stream's records land where they always have.
    """

    def __init__(self, connection: KafkaConnection, linger_ms: int = 5, delivery_timeout_ms: int = 30_000) -> None:
        self._connection = connection
        self._options = connection.librdkafka_options() | {
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": linger_ms,
            "partitioner": "murmur2_random",
            "message.timeout.ms": delivery_timeout_ms,
            "delivery.report.only.error": True,  # a record the broker took needs no call back into Python
            "on_delivery": self._failed,
            "client.id": "metrology-relay",
            "logger": log,  # librdkafka's own lines (a broker away, a reconnect) through logging, not stderr
        }
        self._producer: Producer | None = None
        self._failures: list[KafkaError] = []

    async def start(self) -> None:
        self._producer = Producer(self._options)

    async def stop(self) -> None:
        if self._producer is not None:
            await asyncio.to_thread(self._producer.flush, 10)
            self._producer = None

    async def publish(self, topic: str, events: Sequence[RecordedEvent]) -> None:
        """Hand every record to the producer in store order, then wait until the broker has acknowledged them all
        (or the delivery timeout has passed for those it has not)."""
        producer = self._running()
        self._failures = []
        for recorded in events:
            key, value, headers = recorded.kafka_record()
            while True:
                try:
                    producer.produce(topic, value, key, headers=headers)  # type: ignore[arg-type]  # list is invariant
                    break
                except BufferError:  # the producer's queue is full: let it drain
                    await asyncio.to_thread(producer.poll, 0.05)
        while await asyncio.to_thread(producer.flush, 1.0):
            pass  # each record ends delivered or failed within the delivery timeout
        failures = self._failures
        if failures:
            if any(error.fatal() for error in failures):
                self._producer = Producer(self._options)  # a fatal error leaves the old producer unusable
            raise PublishError(f"{len(failures)} of {len(events)} records were not delivered: {failures[0]}")

    def _failed(self, error: KafkaError | None, _message: object) -> None:
        if error is not None:
            self._failures.append(error)

    def _running(self) -> Producer:
        if self._producer is None:
            raise RuntimeError("the publisher is not started")
        return self._producer

    async def records_in(self, topic: str) -> int:
        return await records_in_topic(self._connection, topic)


async def records_in_topic(connection: KafkaConnection, topic: str) -> int:
    """The sum of the topic's end offsets: every record ever written to it (retention is forever); 0 when the
    broker has no such topic. TopicNotReadyError when the broker cannot tell yet: not knowing is not "empty", and a
    relay that took it for empty would publish its whole store again."""
    return sum((await partition_ends(connection, [topic])).values())


class CommitSignal:
    """Wakes the relay when events were committed: an asyncio.Event in process and, with a `notifier`, a NOTIFY
    to relays in other processes, sent after the commit (coalesced: one in flight, and one more after
    `coalesce_seconds` if commits came meanwhile)."""

    def __init__(self, notifier: Callable[[], Awaitable[None]] | None = None, coalesce_seconds: float = 0.01) -> None:
        self._event = asyncio.Event()
        self._notifier = notifier
        self._coalesce_seconds = coalesce_seconds  # at most one NOTIFY per this interval (relays wake that late)
        self._sending: asyncio.Task[None] | None = None
        self._again = False

    def notify(self) -> None:
        """Events were committed here: wake this process's relay and tell the others."""
        self.wake()
        if self._notifier is None:
            return
        if self._sending is None or self._sending.done():
            self._sending = asyncio.get_running_loop().create_task(self._tell_others())
        else:
            self._again = True

    def wake(self) -> None:
        """Wake this process's relay only (a NOTIFY arrived from another process)."""
        self._event.set()

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._event.wait()
        self._event.clear()

    async def _tell_others(self) -> None:
        assert self._notifier is not None
        while True:
            self._again = False
            try:
                await self._notifier()
            except Exception as error:  # the relay's polling still finds the events
                log.warning("could not notify other relays of a commit: %s", error)
            await asyncio.sleep(self._coalesce_seconds)
            if not self._again:
                return


class PostgresCommitNotifier:
    """NOTIFY on its own pooled connection, outside any appender's transaction.

    A NOTIFY inside a transaction takes PostgreSQL's notification queue lock at commit and holds it until the commit
    is flushed, so appenders that notify commit one at a time; notified after their commits, they commit together.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def __call__(self) -> None:
        async with self.engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.execute(f"NOTIFY {NOTIFY_CHANNEL}")


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
        self.active = False
        self.republished = 0
        self.published = 0
        self._held_back_wait = HELD_BACK_FIRST_WAIT
        self.held_back = False  # the last pass left committed events behind an open transaction
        self.last_loop_at = time.monotonic()  # liveness: every loop round (active or standby) moves it

    async def checkpoint(self) -> Position:
        read = _checkpoint_statements().read
        async with self.engine.connect() as connection:
            row = (await (await statements_alone(connection)).execute(read, {"relay": self.name})).first()
        return Position(row.txid, row.position) if row else Position()

    async def publish_pending(self) -> int:
        """Publish every committed event not yet published; returns how many were sent."""
        async with self._one_pass_at_a_time:
            return await self._publish_pending()

    async def _publish_pending(self) -> int:
        """Publish batch after batch; the next batch is read while the broker takes the one before it."""
        sent = 0
        after = await self.checkpoint()
        batch = await self._read(after)
        while batch:
            after = batch[-1].position
            _, following = await asyncio.gather(self.publisher.publish(self.topic, batch), self._read(after))
            await self._record(after)
            sent += len(batch)
            self.published += len(batch)
            self.last_loop_at = time.monotonic()
            batch = following
        return sent

    async def _read(self, after: Position) -> list[RecordedEvent]:
        """The next batch after `after`; when there is none, whether committed events wait behind an open
        transaction (`held_back`), asked on the same connection (a pass ends with such a read)."""
        async with self.engine.connect() as connection:
            batch = await self.store.read_all(connection, after, self.batch_size)
            if not batch:
                self.held_back = await self.store.held_back(connection, after)
            return batch

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop`; on PostgreSQL only while holding the relay lock (else wait as a standby)."""
        if self.engine.dialect.name != "postgresql":
            self.active = True  # one process per SQLite file: no lock to take
            await self._publish_until(stop)
            return
        while not stop.is_set():
            try:
                async with self.engine.connect() as lock_connection:
                    await statements_alone(lock_connection)  # the lock is the session's; each check one round trip
                    try:
                        if await self._wait_for_lock(lock_connection, stop):
                            log.info("relay %s is active", self.name)
                            self.active = True
                            await self._publish_until(stop, lock_connection)
                    finally:
                        self.active = False
                        await lock_connection.invalidate()  # closed, not pooled: the session lock goes with it
            except Exception:
                log.exception("relay %s lost its database connection; retrying", self.name)
                await asyncio.sleep(self.poll_interval)

    async def _wait_for_lock(self, connection: AsyncConnection, stop: asyncio.Event) -> bool:
        async def as_standby() -> None:
            log.debug("relay %s is a standby: another relay holds the lock", self.name)
            self.last_loop_at = time.monotonic()
            await self.signal.wait(self.poll_interval)

        return await wait_for_lock(connection, RELAY_LOCK_CLASS, self.name, stop, as_standby)

    async def _publish_until(self, stop: asyncio.Event, lock_connection: AsyncConnection | None = None) -> None:
        listener = asyncio.create_task(self._listen(stop)) if self.engine.dialect.name == "postgresql" else None
        try:
            await self._compare_topic_with_store(stop)
            while not stop.is_set():
                self.last_loop_at = time.monotonic()
                if lock_connection is not None:
                    await still_connected(lock_connection)  # a lost lock connection means another may be active
                try:
                    await self.publish_pending()
                except Exception:
                    log.exception("relay %s failed; retrying", self.name)
                    await asyncio.sleep(self.poll_interval)
                await self.signal.wait(self._next_wait())
        finally:
            if listener:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener

    def _next_wait(self) -> float:
        """How long to wait for a commit's wake-up before the next pass: the poll interval, or while events wait
        behind an open transaction (whose end wakes nobody: it may be in another database, or append nothing) a
        short wait that doubles on each pass they are still held back, up to the poll interval."""
        if not self.held_back:
            self._held_back_wait = HELD_BACK_FIRST_WAIT
            return self.poll_interval
        wait, self._held_back_wait = self._held_back_wait, min(self._held_back_wait * 2, self.poll_interval)
        return min(wait, self.poll_interval)

    async def _compare_topic_with_store(self, stop: asyncio.Event) -> None:
        """`_republish_if_topic_is_behind`, asked again at each poll interval while the broker cannot tell (or
        cannot be reached, or the store cannot be read): the relay publishes nothing before it knows."""
        while not stop.is_set():
            try:
                await self._republish_if_topic_is_behind()
                return
            except TopicNotReadyError as error:
                log.warning("relay %s: %s; asking again before publishing", self.name, error)
            except Exception:
                log.exception("relay %s could not compare its topic with the store; asking again", self.name)
            await self.signal.wait(self.poll_interval)

    async def _republish_if_topic_is_behind(self) -> None:
        """Start again from the store's beginning when the topic holds fewer records than were published."""
        after = await self.checkpoint()
        if after == Position():
            return
        async with self.engine.connect() as connection:
            published = await self.store.count_up_to(connection, after)
        held = await self.publisher.records_in(self.topic)
        if held >= published:
            return
        log.warning(
            "relay %s: topic %s holds %d records but %d events were published to it; republishing from the store",
            self.name,
            self.topic,
            held,
            published,
        )
        await self._record(Position())
        self.republished += 1

    async def _record(self, position: Position) -> None:
        """Move the checkpoint. On PostgreSQL one statement outside a transaction (one round trip): only the relay
        holding the lock writes its checkpoint, and the row is inserted by its first pass alone."""
        statements = _checkpoint_statements()
        values = {"relay": self.name, "at_txid": position.txid, "at_position": position.position}
        async with self.engine.connect() as connection:
            if (await (await statements_alone(connection)).execute(statements.moved, values)).rowcount == 0:
                await connection.execute(statements.first, values)
            await connection.commit()

    async def _listen(self, stop: asyncio.Event) -> None:
        """Hold a LISTEN connection open and turn every NOTIFY into a wake-up."""
        while not stop.is_set():
            try:
                async with self.engine.connect() as connection:
                    raw = await connection.get_raw_connection()
                    driver = raw.driver_connection
                    assert driver is not None
                    await driver.add_listener(NOTIFY_CHANNEL, lambda *_: self.signal.wake())
                    await stop.wait()
            except Exception:
                log.warning("relay %s lost its LISTEN connection; polling until it is back", self.name)
                await asyncio.sleep(self.poll_interval)


class _CheckpointStatements(NamedTuple):
    read: sa.Select[tuple[int, int]]
    moved: sa.Update
    first: sa.Insert


@cache
def _checkpoint_statements() -> _CheckpointStatements:
    """The checkpoint's read, its update and its first insert, built once and run with their values."""
    c = relay_checkpoints.c
    name, txid = sa.bindparam("relay", type_=c.name.type), sa.bindparam("at_txid", type_=c.txid.type)
    position = sa.bindparam("at_position", type_=c.position.type)
    return _CheckpointStatements(
        read=sa.select(c.txid, c.position).where(c.name == name),
        moved=sa.update(relay_checkpoints).where(c.name == name).values(txid=txid, position=position),
        first=sa.insert(relay_checkpoints).values(name=name, txid=txid, position=position),
    )
