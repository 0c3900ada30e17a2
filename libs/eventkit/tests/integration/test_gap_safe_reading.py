"""Concurrent appends are never skipped by a catch-up reader or by the relay, on SQLite and PostgreSQL."""

import asyncio
import random
from datetime import date

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer

from metrology.eventkit import EventContext, EventStore, Position
from metrology.eventkit.database import session_factory
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.relay import KafkaEventPublisher, OutboxRelay
from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.testkit.sample_events import ThingCounted

pytestmark = pytest.mark.integration

CTX = EventContext(tenant="83")
STORE = EventStore("/test")


def counted(n: int) -> list[ThingCounted]:
    return [ThingCounted(occurred_on=date(2025, 1, 1), thing=str(n), amount=1)]


async def read_from(engine, after: Position) -> list:
    async with engine.connect() as connection:
        return await STORE.read_all(connection, after, 1000)


async def read_until(engine, expected: int, within: float = 20.0) -> list:
    """Read everything, waiting while other transactions on the server (any database) hold readers back."""
    seen: list = []
    position = Position()
    deadline = asyncio.get_running_loop().time() + within
    while len(seen) < expected and asyncio.get_running_loop().time() < deadline:
        batch = await read_from(engine, position)
        if batch:
            seen.extend(batch)
            position = batch[-1].position
        else:
            await asyncio.sleep(0.05)
    return seen


async def slow_writer(engine, writer: int, rounds: int) -> None:
    """Appends one event per transaction and lingers a little before committing, so commits interleave."""
    sessions = session_factory(engine)
    for i in range(rounds):
        async with sessions.begin() as session:
            await STORE.append(session, f"writer-{writer}-{i}", 0, counted(writer * 10_000 + i), CTX)
            await asyncio.sleep(random.random() * 0.004)


async def test_a_reader_does_not_pass_an_event_whose_transaction_is_still_open(postgres_url):
    from metrology.eventkit.database import create_engine, create_schema
    from metrology.eventkit.store import metadata

    engine = create_engine(postgres_url)
    await create_schema(engine, metadata)
    sessions = session_factory(engine)
    try:
        slow = sessions()
        await slow.begin()
        await STORE.append(slow, "slow", 0, counted(1), CTX)  # takes the lower position, commits last
        async with sessions.begin() as fast:
            await STORE.append(fast, "fast", 0, counted(2), CTX)
        assert await read_from(engine, Position()) == [], "the later commit waits behind the open transaction"
        await slow.commit()
        await slow.close()
        seen = await read_until(engine, expected=2)
        assert [r.stream_id for r in seen] == ["slow", "fast"]
    finally:
        await engine.dispose()


async def test_a_catch_up_reader_sees_every_concurrent_append_exactly_once(store_engine):
    writers, rounds = 8, 60
    done = asyncio.Event()
    seen: list[str] = []

    async def catch_up_reader() -> None:
        # Reads while the writers run; once they are done it keeps going until it has seen as many events as
        # were written (or 20 s pass). An event it skipped is never offered again, so a skip shows as a shortfall.
        position = Position()
        deadline = None
        while deadline is None or (len(seen) < writers * rounds and loop.time() < deadline):
            if deadline is None and done.is_set():
                deadline = loop.time() + 20
            batch = await read_from(store_engine, position)
            seen.extend(r.envelope().id for r in batch)
            if batch:
                position = batch[-1].position
            else:
                await asyncio.sleep(0.001)

    loop = asyncio.get_running_loop()

    reader = asyncio.create_task(catch_up_reader())
    await asyncio.gather(*(slow_writer(store_engine, w, rounds) for w in range(writers)))
    done.set()
    await reader
    assert len(seen) == writers * rounds, f"skipped {writers * rounds - len(set(seen))} events"
    assert len(set(seen)) == len(seen), "no event read twice"


async def test_the_relay_publishes_every_concurrent_append_exactly_once(store_engine, kafka, topic):
    ensure_topics(kafka, [TopicSpec(topic)])
    writers, rounds = 8, 40
    publisher = KafkaEventPublisher(kafka)
    await publisher.start()
    stop = asyncio.Event()
    relay = OutboxRelay(store_engine, STORE, publisher, topic, poll_interval=0.01)
    relay_task = asyncio.create_task(relay.run(stop))
    consumer = AIOKafkaConsumer(topic, **kafka.aiokafka_options(), auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    ids: list[bytes] = []
    try:
        await asyncio.gather(*(slow_writer(store_engine, w, rounds) for w in range(writers)))
        for _ in range(80):  # the running relay catches up by itself; give it up to 20 s
            for records in (await consumer.getmany(timeout_ms=250)).values():
                ids.extend(r.value for r in records)
            if len(ids) >= writers * rounds:
                break
        for records in (await consumer.getmany(timeout_ms=500)).values():  # and nothing more follows
            ids.extend(r.value for r in records)
    finally:
        stop.set()
        await relay_task
        await publisher.stop()
        await consumer.stop()
    assert len(ids) == writers * rounds
    assert len(set(ids)) == len(ids)


async def test_reading_follows_transaction_ids_in_numeric_order_across_a_digit_boundary(postgres_url):
    """Transaction ids gain a digit (99,999 → 100,000): the reader must not fall back to text order."""
    from metrology.eventkit.database import create_engine, create_schema
    from metrology.eventkit.store import metadata

    engine = create_engine(postgres_url)
    await create_schema(engine, metadata)
    try:
        async with engine.begin() as connection:
            current = int((await connection.execute(sa.text("SELECT pg_current_xact_id()::text"))).scalar_one())
            boundary = 10 ** (len(str(current)) - 1)  # the largest power of ten the server has already passed
            txids = [boundary - 2, boundary - 1, boundary, boundary + 1, boundary + 10]
            for n, txid in enumerate(reversed(txids)):  # positions in the opposite order to the txids
                envelope = Envelope.wrap(
                    counted(n)[0], source="/test", stream_id=f"s-{txid}", stream_version=1, context=CTX
                )
                await connection.execute(
                    sa.text(
                        "INSERT INTO events (txid, event_id, stream_id, stream_version, type, recorded_at, payload)"
                        " VALUES (CAST(:txid AS text)::xid8, :id, :stream, 1, :type, now(), :payload)"
                    ),
                    {
                        "txid": str(txid),
                        "id": envelope.id,
                        "stream": envelope.stream_id,
                        "type": envelope.type,
                        "payload": envelope.to_json(),
                    },
                )
        for limit in (1, 2, 100):
            seen, position = [], Position()
            while batch := await read_from_limited(engine, position, limit):
                seen.extend(batch)
                position = batch[-1].position
            assert [r.position.txid for r in seen] == txids, f"limit {limit}"
    finally:
        await engine.dispose()


async def read_from_limited(engine, after: Position, limit: int) -> list:
    async with engine.connect() as connection:
        return await STORE.read_all(connection, after, limit)
