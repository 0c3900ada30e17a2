"""The relay under faults, on the real broker and PostgreSQL: per-stream order under concurrent multi-stream
transactions, one active relay per store, a topic that lost what the store holds, and a broker that cannot yet say
what the topic holds."""

import asyncio
import contextlib
import random
from datetime import date

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer
from kafka.admin import KafkaAdminClient
from sqlalchemy.exc import DBAPIError

from metrology.eventkit import EventContext, EventStore
from metrology.eventkit.database import create_engine, session_factory
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.projector import ProjectorRunner
from metrology.eventkit.relay import KafkaEventPublisher, OutboxRelay, records_in_topic
from metrology.eventkit.replay import rebuild
from metrology.eventkit.store import ConcurrencyError
from metrology.eventkit.topics import TopicNotReadyError, TopicSpec, ensure_topics
from metrology.testkit.sample_events import ThingCounted, ThingTotals, read_totals

pytestmark = pytest.mark.integration

CTX = EventContext(tenant="83")
STORE = EventStore("/test")


@pytest.fixture
def engine(totals_engine):
    return totals_engine


def counted(thing: str, amount: int = 1) -> ThingCounted:
    return ThingCounted(occurred_on=date(2025, 5, 1), thing=thing, amount=amount)


async def append_to_several_streams(engine, streams: list[str], pause: float) -> None:
    """One transaction appending to each stream in turn (as a saga does), retried on a concurrency conflict."""
    while True:
        try:
            async with session_factory(engine).begin() as session:
                for stream in streams:
                    await STORE.append(session, stream, None, [counted(stream)], CTX)
                    await asyncio.sleep(pause)
            return
        except (ConcurrencyError, DBAPIError):  # a conflict, or a deadlock between two such transactions
            await asyncio.sleep(random.uniform(0, 0.01))


async def read_all_records(kafka: KafkaConnection, topic: str, expected: int) -> list:
    consumer = AIOKafkaConsumer(topic, **kafka.aiokafka_options(), auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    records: list = []
    try:
        async with asyncio.timeout(60):
            while len(records) < expected:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def run_relay_until(relay: OutboxRelay, done) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        await until(done, within=60)
    finally:
        stop.set()
        relay.signal.notify()
        await task


async def test_versions_of_every_stream_reach_kafka_in_order_under_concurrent_multi_stream_transactions(
    engine, kafka, topic
):
    ensure_topics(kafka, [TopicSpec(topic)])
    streams = [f"thing-{n}" for n in range(6)]
    writers = []
    for n in range(120):
        chosen = sorted(random.Random(n).sample(streams, 3))  # three streams a transaction, in one order (no deadlocks)
        writers.append(append_to_several_streams(engine, chosen, pause=random.Random(n).uniform(0, 0.005)))
    for i in range(0, len(writers), 8):  # eight writers at a time
        await asyncio.gather(*writers[i : i + 8])
    publisher = KafkaEventPublisher(kafka)
    await publisher.start()
    relay = OutboxRelay(engine, STORE, publisher, topic, poll_interval=0.2)

    try:
        await run_relay_until(relay, lambda: _at_least(kafka, topic, 360))
    finally:
        await publisher.stop()
    records = await read_all_records(kafka, topic, 360)
    versions: dict[bytes, list[int]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        versions.setdefault(record.key, []).append(int(dict(record.headers)["ce_streamversion"]))
    for key, seen in versions.items():
        assert seen == sorted(seen) and len(set(seen)) == len(seen), f"{key!r} reached Kafka out of order: {seen}"
    assert sum(len(v) for v in versions.values()) == 360


async def test_a_younger_append_to_the_same_stream_makes_an_older_transaction_retry(engine):
    older = session_factory(engine)()
    await older.begin()
    await STORE.append(older, "thing-a", None, [counted("a")], CTX)  # the older transaction takes its id here
    async with session_factory(engine).begin() as younger:
        await STORE.append(younger, "thing-b", None, [counted("b")], CTX)
    with pytest.raises(ConcurrencyError, match="younger transaction"):
        await STORE.append(older, "thing-b", None, [counted("b")], CTX)
    await older.rollback()
    await older.close()


async def test_only_one_relay_publishes_and_a_standby_takes_over_when_the_active_one_dies(
    engine, postgres_url, kafka, topic
):
    ensure_topics(kafka, [TopicSpec(topic)])
    other_engine = create_engine(postgres_url)  # a second process: its own pool
    publishers = [KafkaEventPublisher(kafka), KafkaEventPublisher(kafka)]
    for publisher in publishers:
        await publisher.start()
    first = OutboxRelay(engine, STORE, publishers[0], topic, poll_interval=0.2)
    second = OutboxRelay(other_engine, STORE, publishers[1], topic, poll_interval=0.2)
    stops = [asyncio.Event(), asyncio.Event()]
    tasks = [asyncio.create_task(first.run(stops[0])), asyncio.create_task(second.run(stops[1]))]
    try:
        await until(lambda: _true(first.active or second.active))
        await asyncio.sleep(1)
        assert [first.active, second.active].count(True) == 1, "exactly one relay holds the lock"
        active, standby = (first, second) if first.active else (second, first)
        async with session_factory(engine).begin() as session:
            await STORE.append(session, "thing-a", None, [counted("a")] * 3, CTX)
        await until(lambda: _at_least(kafka, topic, 3))

        await kill_database_sessions_of(engine, active)  # the active relay's process dies: its sessions end
        tasks[0 if active is first else 1].cancel()
        await until(lambda: _true(standby.active))
        async with session_factory(engine).begin() as session:
            await STORE.append(session, "thing-a", None, [counted("a")] * 2, CTX)
        await until(lambda: _at_least(kafka, topic, 5))
    finally:
        for stop in stops:
            stop.set()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        for publisher in publishers:
            await publisher.stop()
        await other_engine.dispose()


async def kill_database_sessions_of(engine, relay: OutboxRelay) -> None:
    """End every database session of the relay's engine except the one asking (as a killed process's would)."""
    async with relay.engine.connect() as connection:
        mine = (await connection.execute(sa.text("SELECT pg_backend_pid()"))).scalar()
        holders = (
            await connection.execute(sa.text("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"))
        ).scalars()
        for pid in holders:
            if pid != mine:
                await connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


async def until(check, within: float = 30) -> None:
    async with asyncio.timeout(within):
        while not await check():  # noqa: ASYNC110 (polls another process's state)
            await asyncio.sleep(0.1)


async def _true(value: bool) -> bool:
    return value


async def test_a_relay_republishes_from_the_store_when_the_topic_lost_its_records_and_a_rebuild_sees_all(
    engine, kafka, topic
):
    ensure_topics(kafka, [TopicSpec(topic)])
    for thing, amount in [("scales", 1), ("meters", 2), ("scales", 3)]:
        async with session_factory(engine).begin() as session:
            await STORE.append(session, f"thing-{thing}", None, [counted(thing, amount)], CTX)
    publisher = KafkaEventPublisher(kafka)
    await publisher.start()
    try:
        relay = OutboxRelay(engine, STORE, publisher, topic, poll_interval=0.2)
        await run_relay_until(relay, lambda: _at_least(kafka, topic, 3))

        recreate_topic(kafka, topic)  # the broker lost the topic (wiped, re-formatted, restored from an old backup)
        assert await records_in_topic(kafka, topic) == 0

        relay = OutboxRelay(engine, STORE, publisher, topic, poll_interval=0.2)
        await run_relay_until(relay, lambda: _at_least(kafka, topic, 3))
        assert relay.republished == 1
    finally:
        await publisher.stop()

    runner = ProjectorRunner(session_factory(engine), ThingTotals(), dead_letters=None)  # type: ignore[arg-type]
    progress = await rebuild(kafka, runner, [topic])
    assert progress.done == 3
    assert await read_totals(engine) == {"scales": (4, 2), "meters": (2, 1)}


class BrokerNotReadyAtFirst(KafkaEventPublisher):
    """The real publisher, on a broker that cannot describe the topic the first `times` it is asked (as one just
    restarted answers before its partitions have leaders)."""

    def __init__(self, kafka: KafkaConnection, times: int) -> None:
        super().__init__(kafka)
        self.unanswered, self.asked = times, 0

    async def records_in(self, topic: str) -> int:
        self.asked += 1
        if self.asked <= self.unanswered:
            raise TopicNotReadyError(f"the broker's metadata for topic {topic}: LeaderNotAvailableError")
        return await super().records_in(topic)


async def test_a_relay_started_while_the_broker_cannot_describe_the_topic_waits_and_republishes_nothing(
    engine, kafka, topic
):
    ensure_topics(kafka, [TopicSpec(topic)])
    for thing in ["scales", "meters", "scales"]:
        async with session_factory(engine).begin() as session:
            await STORE.append(session, f"thing-{thing}", None, [counted(thing)], CTX)
    first = KafkaEventPublisher(kafka)
    restarted = BrokerNotReadyAtFirst(kafka, times=2)
    await first.start()
    await restarted.start()
    try:
        await run_relay_until(
            OutboxRelay(engine, STORE, first, topic, poll_interval=0.2), lambda: _at_least(kafka, topic, 3)
        )
        async with session_factory(engine).begin() as session:
            await STORE.append(session, "thing-meters", None, [counted("meters")], CTX)

        relay = OutboxRelay(engine, STORE, restarted, topic, poll_interval=0.2)
        await run_relay_until(relay, lambda: _at_least(kafka, topic, 4))
    finally:
        await first.stop()
        await restarted.stop()

    assert (restarted.asked, relay.republished, relay.published) == (3, 0, 1)
    assert await records_in_topic(kafka, topic) == 4


async def test_the_records_of_a_topic_the_broker_never_had_are_none(kafka, topic):
    assert await records_in_topic(kafka, f"{topic}.never-made") == 0


async def _at_least(kafka: KafkaConnection, topic: str, count: int) -> bool:
    return await records_in_topic(kafka, topic) >= count


def recreate_topic(kafka: KafkaConnection, topic: str) -> None:
    admin = KafkaAdminClient(**kafka.kafka_python_options())
    try:
        admin.delete_topics([topic])
    finally:
        admin.close()
    for _ in range(100):
        try:
            if ensure_topics(kafka, [TopicSpec(topic)]):
                return
        except Exception:
            pass
        import time

        time.sleep(0.2)
    raise AssertionError(f"could not recreate {topic}")
