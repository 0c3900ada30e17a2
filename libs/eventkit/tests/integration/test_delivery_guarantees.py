"""The kit's guarantees on the real broker: every accepted event is published, and counted exactly once."""

import asyncio
import contextlib
import json
import time
from datetime import date

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner
from sqlalchemy.ext.asyncio import AsyncEngine

from metrology.eventkit import EventContext, EventStore, Position
from metrology.eventkit.consumers import BrokerDeadLetterSink, new_broker, subscribe_projection
from metrology.eventkit.database import create_schema, session_factory
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.projector import ProjectorRunner, RetryPolicy, replaying
from metrology.eventkit.relay import KafkaEventPublisher, OutboxRelay
from metrology.eventkit.replay import rebuild, redrive
from metrology.eventkit.topics import TopicSpec, describe_retention, ensure_topics
from metrology.testkit.lag import wait_until_caught_up
from metrology.testkit.sample_events import (
    ThingCounted,
    ThingCountedWithUnit,
    ThingTotals,
    read_totals,
    thing_totals,
    totals_metadata,
    upgraded_registry,
)

pytestmark = pytest.mark.integration

CTX = EventContext(tenant="83")


@pytest.fixture
async def engine(store_engine: AsyncEngine) -> AsyncEngine:
    await create_schema(store_engine, totals_metadata)
    return store_engine


@pytest.fixture
def topics(kafka: KafkaConnection, topic: str) -> tuple[str, str]:
    dead_letters = f"{topic}.dlq"
    ensure_topics(kafka, [TopicSpec(topic), TopicSpec(dead_letters)])
    return topic, dead_letters


async def count(engine: AsyncEngine, thing: str, amount: int, times: int = 1) -> None:
    """Append `times` events of `amount` to the stream of `thing`."""
    async with session_factory(engine).begin() as session:
        events = [ThingCounted(occurred_on=date(2025, 5, 1), thing=thing, amount=amount) for _ in range(times)]
        await EventStore("/test").append(session, f"thing-{thing}", None, events, CTX)


async def relay_all(engine: AsyncEngine, kafka: KafkaConnection, topic: str, expected: int = 0) -> int:
    """Run the relay until it has sent `expected` events (others' open transactions on a shared PostgreSQL
    server can hold its reader back for a moment: it waits, it never skips)."""
    await visible(engine, expected)
    publisher = KafkaEventPublisher(kafka)
    await publisher.start()
    try:
        return await OutboxRelay(engine, EventStore("/test"), publisher, topic).publish_pending()
    finally:
        await publisher.stop()


async def visible(engine: AsyncEngine, expected: int, within: float = 30.0) -> None:
    """Wait until the store's gap-safe reader offers at least `expected` events."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with engine.connect() as connection:
            if len(await EventStore("/test").read_all(connection, Position(), expected or 1)) >= expected:
                return
        await asyncio.sleep(0.1)


@contextlib.asynccontextmanager
async def projector(
    engine: AsyncEngine, kafka: KafkaConnection, topic: str, dead_letters: str, group: str, events=None
):
    broker = new_broker(kafka)
    runner = ProjectorRunner(session_factory(engine), ThingTotals(events), BrokerDeadLetterSink(broker, dead_letters))
    subscribe_projection(broker, runner, [topic], group_id=group, max_records=100)
    await broker.start()
    try:
        yield runner
    finally:
        await broker.stop()


async def eventually(check, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while True:
        try:
            await check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def read_topic(kafka: KafkaConnection, topic: str, expected: int) -> list:
    consumer = AIOKafkaConsumer(topic, **kafka.aiokafka_options(), auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    records: list = []
    try:
        deadline = time.monotonic() + 20
        while len(records) < expected and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


class PublishesThenCrashes:
    """A relay publisher that sends the batch and then dies before the relay can record its progress."""

    def __init__(self, inner: KafkaEventPublisher) -> None:
        self.inner = inner

    async def publish(self, topic, events) -> None:
        await self.inner.publish(topic, events)
        raise ConnectionAbortedError("process killed after publishing")


async def test_topics_are_provisioned_with_infinite_retention(kafka, topic):
    ensure_topics(kafka, [TopicSpec(topic, partitions=3)])
    assert describe_retention(kafka, topic) == "-1"
    assert ensure_topics(kafka, [TopicSpec(topic, partitions=3)]) == []


async def test_the_relay_publishes_every_committed_event_keyed_by_stream_in_order(engine, kafka, topics):
    topic, _ = topics
    await count(engine, "scales", 1, times=5)
    await count(engine, "meters", 2, times=3)
    assert await relay_all(engine, kafka, topic, expected=8) == 8
    assert await relay_all(engine, kafka, topic) == 0, "a second pass has nothing left to send"
    records = await read_topic(kafka, topic, 8)
    by_stream: dict[bytes, list[int]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        by_stream.setdefault(record.key, []).append(int(dict(record.headers)["ce_streamversion"]))
    assert by_stream == {b"thing-scales": [1, 2, 3, 4, 5], b"thing-meters": [1, 2, 3]}
    headers = dict(records[0].headers)
    assert headers["content-type"] == b"application/json", "CloudEvents binary mode: content-type is the data's"
    assert headers["ce_specversion"] == b"1.0"
    assert set(json.loads(records[0].value)) == {"occurred_on", "thing", "amount"}, "the value is the data alone"


async def test_a_relay_killed_between_publishing_and_recording_progress_still_gets_each_event_counted_once(
    engine, kafka, topics
):
    topic, dead_letters = topics
    await count(engine, "scales", 1, times=4)
    await visible(engine, 4)
    publisher = KafkaEventPublisher(kafka)
    await publisher.start()
    try:
        crashing = OutboxRelay(engine, EventStore("/test"), PublishesThenCrashes(publisher), topic)
        with pytest.raises(ConnectionAbortedError):
            await crashing.publish_pending()
    finally:
        await publisher.stop()
    assert await relay_all(engine, kafka, topic) == 4, "the restarted relay sends the batch again"
    assert len(await read_topic(kafka, topic, 8)) == 8, "so the topic holds every event twice"

    async with projector(engine, kafka, topic, dead_letters, group=f"{topic}.g") as runner:
        await caught_up(kafka, f"{topic}.g", topic)  # all eight records consumed, the re-sent four included
        assert await read_totals(engine) == {"scales": (4, 4)}
        assert (runner.stats.applied, runner.stats.duplicates) == (4, 4)


async def caught_up(kafka: KafkaConnection, group: str, topic: str) -> None:
    """Wait until the group has committed up to the end of the topic: every delivery has been handled."""
    await asyncio.to_thread(wait_until_caught_up, kafka.bootstrap_servers, [(group, [topic])], 60)


async def test_the_same_record_delivered_twice_is_counted_once(engine, kafka, topics):
    topic, dead_letters = topics
    await count(engine, "meters", 5)
    await relay_all(engine, kafka, topic, expected=1)
    [record] = await read_topic(kafka, topic, 1)
    producer = AIOKafkaProducer(**kafka.aiokafka_options())
    await producer.start()
    await producer.send_and_wait(topic, record.value, key=record.key, headers=list(record.headers))
    await producer.stop()

    async with projector(engine, kafka, topic, dead_letters, group=f"{topic}.g") as runner:
        await caught_up(kafka, f"{topic}.g", topic)
        assert await read_totals(engine) == {"meters": (5, 1)}
        assert (runner.stats.records, runner.stats.duplicates) == (2, 1), "the second delivery was seen and dropped"


async def test_a_restarted_projector_resumes_without_loss_or_double_count(engine, kafka, topics):
    topic, dead_letters = topics
    group = f"{topic}.g"
    await count(engine, "scales", 1, times=10)
    await relay_all(engine, kafka, topic, expected=10)
    async with projector(engine, kafka, topic, dead_letters, group):
        await caught_up(kafka, group, topic)
        assert await read_totals(engine) == {"scales": (10, 10)}

    await count(engine, "scales", 1, times=7)
    await count(engine, "meters", 3, times=2)
    await relay_all(engine, kafka, topic, expected=19)
    async with projector(engine, kafka, topic, dead_letters, group) as restarted:
        await caught_up(kafka, group, topic)
        assert await read_totals(engine) == {"scales": (17, 17), "meters": (6, 2)}
        assert restarted.stats.records == 9, "it resumed from its committed offsets, not from the start"
        assert restarted.stats.duplicates == 0


class DatabaseDownAtFirst(ThingTotals):
    """The read model's database failing for the first `failures` applies (past the runner's own retries)."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def apply(self, session, envelope, event) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionResetError("the read model's database went away")
        await super().apply(session, envelope, event)


async def test_a_batch_that_fails_is_rewound_on_every_partition_it_spans_and_applied_once_after(engine, kafka, topics):
    topic, dead_letters = topics
    group = f"{topic}.g"
    things = [f"t{n}" for n in range(12)]  # streams keyed onto all three partitions
    for thing in things:
        await count(engine, thing, 2, times=3)
    await relay_all(engine, kafka, topic, expected=36)
    partitions = {record.partition for record in await read_topic(kafka, topic, 36)}
    assert len(partitions) > 1, "the first batch spans several partitions"

    broker = new_broker(kafka)
    projection = DatabaseDownAtFirst(failures=RetryPolicy().attempts)  # each attempt fails: the batch is nacked
    runner = ProjectorRunner(session_factory(engine), projection, BrokerDeadLetterSink(broker, dead_letters))
    subscribe_projection(broker, runner, [topic], group_id=group, max_records=100)
    await broker.start()
    try:
        await caught_up(kafka, group, topic)
        assert projection.failures == 0, "the first batch failed through every retry: FastStream nacked it"
        assert await read_totals(engine) == {thing: (6, 3) for thing in things}
        assert runner.stats.applied == 36 and runner.stats.dead_lettered == 0
    finally:
        await broker.stop()


class GatedRunner(ProjectorRunner):
    """A runner that notes each batch's records (their keys) and holds its first batch until `gate` is set."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[list[str]] = []
        self.gate = asyncio.Event()

    async def apply(self, batch):
        self.batches.append([item.record.key.decode() for item in batch.readable])
        if len(self.batches) == 1:
            await self.gate.wait()
        return await super().apply(batch)


def things_on_one_partition() -> list[str]:
    """Two thing names whose streams are keyed (murmur2, as the relay partitions) onto one partition of a topic of
    `TopicSpec`'s partitions."""
    partitions = list(range(TopicSpec("any").partitions))
    seen: dict[int, str] = {}
    for n in range(100):
        partition = DefaultPartitioner()(f"thing-t{n}".encode(), partitions, partitions)
        if partition in seen:
            return [seen[partition], f"t{n}"]
        seen[partition] = f"t{n}"
    raise AssertionError("no two things on one partition")


async def held_first_batch_then_two_arrivals(engine, kafka, topic, dead_letters, projection, late: list[str]):
    """Start a gated projector on one event; while its first batch is held, publish `late[0]` (the consumer fetches
    it), wait, publish `late[1]` on the same partition (aiokafka fetches no more of a partition while records it
    fetched wait to be taken), then let the first batch go."""
    await count(engine, "first", 1)
    await relay_all(engine, kafka, topic, expected=1)
    broker = new_broker(kafka)
    runner = GatedRunner(session_factory(engine), projection, BrokerDeadLetterSink(broker, dead_letters))
    # a generous wait for the latecomers: the test is of what they join, not of how long a fetch takes
    subscribe_projection(broker, runner, [topic], group_id=f"{topic}.g", max_records=100, latecomers_wait_ms=2000)
    await broker.start()
    try:
        await eventually(_has_batches(runner, 1))
        for n, thing in enumerate(late, start=2):
            await count(engine, thing, 1)
            await relay_all(engine, kafka, topic, expected=n)
            await asyncio.sleep(0.5)  # the consumer's fetch of what is there has come back
        runner.gate.set()
        await caught_up(kafka, f"{topic}.g", topic)
        return runner
    finally:
        await broker.stop()


def _has_batches(runner: GatedRunner, n: int):
    async def check() -> None:
        assert len(runner.batches) >= n

    return check


async def test_records_that_arrive_while_a_batch_is_applied_all_join_the_next_batch(engine, kafka, topics):
    topic, dead_letters = topics
    late = things_on_one_partition()
    runner = await held_first_batch_then_two_arrivals(engine, kafka, topic, dead_letters, ThingTotals(), late)
    keys = [f"thing-{thing}" for thing in late]
    assert runner.batches == [["thing-first"], keys], "the second arrival did not wait a batch more"
    assert await read_totals(engine) == {"first": (1, 1), late[0]: (1, 1), late[1]: (1, 1)}


class FailsTheFirstBatchWithBoth(ThingTotals):
    """Fails every attempt of the first batch that holds both `things`: the runner gives up, FastStream nacks it."""

    def __init__(self, things: list[str]) -> None:
        super().__init__()
        self.things = set(things)
        self.failures_left = RetryPolicy().attempts

    async def apply(self, session, envelope, event) -> None:
        await super().apply(session, envelope, event)
        session.info.setdefault("things", set()).add(event.thing)

    async def after_batch(self, session) -> None:
        if self.failures_left and self.things <= session.info.get("things", set()):
            self.failures_left -= 1
            raise ConnectionResetError("the read model's database went away")


async def test_a_failed_batch_with_latecomers_is_applied_once_after(engine, kafka, topics):
    topic, dead_letters = topics
    late = things_on_one_partition()
    projection = FailsTheFirstBatchWithBoth(late)
    runner = await held_first_batch_then_two_arrivals(engine, kafka, topic, dead_letters, projection, late)
    assert runner.batches[1] == [f"thing-{thing}" for thing in late], "the latecomer joined the failing batch"
    assert projection.failures_left == 0
    assert await read_totals(engine) == {"first": (1, 1), late[0]: (1, 1), late[1]: (1, 1)}
    assert runner.stats.applied == 3 and runner.stats.dead_lettered == 0


async def test_rebuild_replays_the_topic_into_the_same_read_model(engine, kafka, topics):
    topic, dead_letters = topics
    await count(engine, "scales", 2, times=6)
    await count(engine, "meters", 1, times=9)
    await relay_all(engine, kafka, topic, expected=15)
    async with projector(engine, kafka, topic, dead_letters, group=f"{topic}.g") as runner:

        async def folded():
            assert await read_totals(engine) == {"scales": (12, 6), "meters": (9, 9)}

        await eventually(folded)
    before = await read_totals(engine)
    await spoil(engine)  # a rebuild that reset nothing would keep this, or skip every event as already applied
    progress = []
    result = await rebuild(kafka, runner, [topic], batch_size=4, on_progress=progress.append)
    assert await read_totals(engine) == before
    assert result.done == result.total == 15
    assert progress and progress[-1].done == 15


class BatchWatcher(ThingTotals):
    """ThingTotals that notes how its batches come: whether they overlap in the database, what each says, and the
    order events are applied in."""

    database_time = 0.02  # each batch's: the next batch is fetched and decoded meanwhile, not applied

    def __init__(self) -> None:
        super().__init__()
        self.busy = False
        self.overlapped = False
        self.batches: list[bool] = []  # per batch: whether it said it was replaying
        self.applied: list[tuple[str, int]] = []  # (stream, version) in the order applied

    async def apply(self, session, envelope, event) -> None:
        self.applied.append((envelope.stream_id, envelope.stream_version))
        await super().apply(session, envelope, event)

    async def after_batch(self, session) -> None:
        self.overlapped |= self.busy
        self.busy = True
        await asyncio.sleep(self.database_time)
        self.batches.append(replaying(session))
        self.busy = False


class ReplayWatcher(BatchWatcher):
    """A BatchWatcher that also notes when a replay derives."""

    def __init__(self) -> None:
        super().__init__()
        self.derived_after: list[int] = []  # at each after_replay: how many batches had committed

    async def after_replay(self, session) -> None:
        self.derived_after.append(len(self.batches))


async def test_a_rebuild_applies_batches_one_at_a_time_in_order_and_derives_once_at_its_end(engine, kafka, topics):
    topic, _ = topics
    await count(engine, "scales", 2, times=12)
    await count(engine, "meters", 1, times=9)
    await relay_all(engine, kafka, topic, expected=21)
    watcher = ReplayWatcher()
    runner = ProjectorRunner(session_factory(engine), watcher, BrokerDeadLetterSink(new_broker(kafka), topic))

    result = await rebuild(kafka, runner, [topic], batch_size=4)

    assert result.done == 21 and await read_totals(engine) == {"scales": (24, 12), "meters": (9, 9)}
    assert len(watcher.batches) > 2 and not watcher.overlapped
    assert all(watcher.batches)
    assert watcher.derived_after == [len(watcher.batches)]  # once, after every batch committed
    for stream in ("thing-scales", "thing-meters"):
        versions = [version for name, version in watcher.applied if name == stream]
        assert versions == sorted(versions) and len(versions) == len(set(versions))
    assert runner.replaying is False


async def spoil(engine: AsyncEngine) -> None:
    async with session_factory(engine).begin() as session:
        await session.execute(sa.update(thing_totals).values(amount=0, times=0))
        await session.execute(sa.insert(thing_totals).values(thing="stale", amount=99, times=1))


async def test_a_poison_record_goes_to_the_dead_letter_topic_and_the_projector_goes_on(engine, kafka, topics):
    topic, dead_letters = topics
    producer = AIOKafkaProducer(**kafka.aiokafka_options())
    await producer.start()
    await producer.send_and_wait(topic, b"{not json", key=b"thing-broken")
    null_id = binary(ThingCounted(occurred_on=date(2025, 5, 1), thing="x", amount=1), "thing-x", id=None)
    await producer.send_and_wait(topic, null_id[1], key=b"thing-x", headers=null_id[2])
    await producer.stop()
    await count(engine, "scales", 3)
    await relay_all(engine, kafka, topic, expected=1)

    async with projector(engine, kafka, topic, dead_letters, group=f"{topic}.g"):

        async def good_one_counted():
            assert await read_totals(engine) == {"scales": (3, 1)}

        await eventually(good_one_counted)
        letters = await read_topic(kafka, dead_letters, 2)
    reasons = sorted(dict(r.headers)["dlq-reason"].decode() for r in letters)
    assert len(letters) == 2
    assert any("'id' must be a non-empty string" in reason for reason in reasons)
    assert {r.value for r in letters} == {b"{not json", null_id[1]}
    assert all(dict(r.headers)["dlq-source-topic"] == topic.encode() for r in letters)
    kept = next(dict(r.headers) for r in letters if r.value == null_id[1])
    assert kept["ce_specversion"] == b"1.0", "the dead letter keeps the CloudEvents headers for a redrive"


def binary(event, stream_id: str, **attributes):
    """A binary-mode record of `event` as a producer would write it, with some attributes overridden."""
    envelope = Envelope.wrap(event, source="/test", stream_id=stream_id, stream_version=1, context=CTX)
    key, value, headers = envelope.to_kafka()
    for name, override in attributes.items():
        headers = [(n, v) for n, v in headers if n != f"ce_{name}"]
        if override is not None:
            headers.append((f"ce_{name}", str(override).encode()))
    if attributes.get("id", "") is None:
        headers.append(("ce_id", b""))
    return key, value, headers


async def test_an_event_newer_than_the_reader_holds_its_partition_until_an_upgraded_reader_resumes_there(
    engine, kafka, topic
):
    ensure_topics(kafka, [TopicSpec(topic, partitions=1), TopicSpec(f"{topic}.dlq", partitions=1)])
    newer = ThingCountedWithUnit(occurred_on=date(2025, 5, 1), thing="gauges", amount=5, unit="box")
    records = [
        binary(ThingCounted(occurred_on=date(2025, 5, 1), thing="scales", amount=1), "thing-scales"),
        binary(newer, "thing-gauges"),
        binary(ThingCounted(occurred_on=date(2025, 5, 1), thing="meters", amount=2), "thing-meters"),
    ]
    producer = AIOKafkaProducer(**kafka.aiokafka_options())
    await producer.start()
    for key, value, headers in records:
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    await producer.stop()
    group = f"{topic}.g"

    async with projector(engine, kafka, topic, f"{topic}.dlq", group=group) as runner:

        async def held_at_the_newer_record():
            assert (topic, 0) in runner.stats.held

        await eventually(held_at_the_newer_record)
        await asyncio.sleep(1)  # more polls: a paused partition delivers nothing more
        assert await read_totals(engine) == {"scales": (1, 1)}, "nothing after the held record is applied"
        assert runner.stats.held[(topic, 0)].offset == 1
        assert runner.stats.dead_lettered == 0, "a newer version is not poison"
        assert await committed_offset(kafka, group, topic) == 1, "the group's offset stops at the held record"

    async with projector(engine, kafka, topic, f"{topic}.dlq", group=group, events=upgraded_registry()):

        async def everything_counted():
            assert await read_totals(engine) == {"scales": (1, 1), "gauges": (5, 1), "meters": (2, 1)}

        await eventually(everything_counted)


class WatchedRunner(ProjectorRunner):
    """The kit's runner, counting the batches during whose application more records were read."""

    read_meanwhile = 0

    async def apply(self, batch):
        records_before = self.stats.records
        result = await super().apply(batch)
        self.read_meanwhile += self.stats.records > records_before
        return result


def live_projector(engine, kafka, topic, projection, max_records: int):
    broker = new_broker(kafka)
    runner = WatchedRunner(session_factory(engine), projection, BrokerDeadLetterSink(broker, f"{topic}.dlq"))
    subscribe_projection(broker, runner, [topic], group_id=f"{topic}.g", max_records=max_records)
    return broker, runner


async def test_a_live_projection_reads_the_next_batch_while_one_is_applied_and_applies_each_once_in_order(
    engine, kafka, topics
):
    topic, _ = topics
    await count(engine, "scales", 1, times=30)
    await count(engine, "meters", 2, times=30)
    await relay_all(engine, kafka, topic, expected=60)
    watcher = BatchWatcher()
    broker, runner = live_projector(engine, kafka, topic, watcher, max_records=5)
    await broker.start()
    try:
        await caught_up(kafka, f"{topic}.g", topic)
    finally:
        await broker.stop()
    assert await read_totals(engine) == {"scales": (30, 30), "meters": (60, 30)}
    assert (runner.stats.applied, runner.stats.duplicates) == (60, 0)
    assert not watcher.overlapped, "one batch in the database at a time"
    assert runner.read_meanwhile >= 5, "the batches that followed were read while the one before was applied"
    for stream in ("thing-scales", "thing-meters"):
        versions = [version for name, version in watcher.applied if name == stream]
        assert versions == list(range(1, 31)), "each stream's events applied once, in order"


class FailsOnAnotherPartition(WatchedRunner):
    """A runner whose first batch from a partition its first batch did not touch fails, as a batch does once the
    runner's retries are spent: FastStream rewinds only the partitions of the batch it gave."""

    first_partitions: frozenset[int] | None = None
    failed = False

    async def apply(self, batch):
        partitions = frozenset(item.record.partition for item in batch.readable)
        if self.first_partitions is None:
            self.first_partitions = partitions
        elif not self.failed and not partitions & self.first_partitions:
            self.failed = True
            raise ConnectionResetError("the read model's database went away")
        return await super().apply(batch)


async def test_a_batch_failing_after_others_of_its_turn_is_applied_once_after_and_the_others_are_not_counted_twice(
    engine, kafka, topics
):
    topic, dead_letters = topics
    things = [f"t{n}" for n in range(12)]  # streams keyed onto all three partitions
    for thing in things:
        await count(engine, thing, 1, times=3)
    await relay_all(engine, kafka, topic, expected=36)
    broker = new_broker(kafka)
    runner = FailsOnAnotherPartition(session_factory(engine), ThingTotals(), BrokerDeadLetterSink(broker, dead_letters))
    subscribe_projection(broker, runner, [topic], group_id=f"{topic}.g", max_records=3)
    await broker.start()
    try:
        await caught_up(kafka, f"{topic}.g", topic)
    finally:
        await broker.stop()
    assert runner.failed, "a batch of another partition than the turn's first failed"
    assert await read_totals(engine) == {thing: (3, 3) for thing in things}, "every event applied once"
    assert runner.stats.applied == 36 and runner.stats.dead_lettered == 0
    assert runner.stats.duplicates > 0, "the batches applied before the failure came again, and were dropped"


async def test_a_newer_record_met_while_a_batch_is_applied_holds_its_partition_before_anything_after_it(
    engine, kafka, topic
):
    ensure_topics(kafka, [TopicSpec(topic, partitions=1), TopicSpec(f"{topic}.dlq", partitions=1)])
    older = ThingCounted(occurred_on=date(2025, 5, 1), thing="scales", amount=1)
    newer = ThingCountedWithUnit(occurred_on=date(2025, 5, 1), thing="gauges", amount=5, unit="box")
    after = ThingCounted(occurred_on=date(2025, 5, 1), thing="meters", amount=2)
    records = (
        [binary(older, "thing-scales")] * 7 + [binary(newer, "thing-gauges")] + [binary(after, "thing-meters")] * 5
    )
    producer = AIOKafkaProducer(**kafka.aiokafka_options())
    await producer.start()
    for key, value, headers in records:
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    await producer.stop()
    broker, runner = live_projector(engine, kafka, topic, BatchWatcher(), max_records=2)
    await broker.start()
    try:

        async def held_at_the_newer_record():
            assert (topic, 0) in runner.stats.held

        await eventually(held_at_the_newer_record)
        await asyncio.sleep(1)  # more turns: a paused partition delivers nothing more
        assert runner.read_meanwhile > 0, "records were read while a batch was applied"
        assert await read_totals(engine) == {"scales": (1, 1)}, "nothing after the held record is applied"
        assert runner.stats.held[(topic, 0)].offset == 7
        assert await committed_offset(kafka, f"{topic}.g", topic) == 7, "the group's offset stops at the held record"
    finally:
        await broker.stop()


async def committed_offset(kafka: KafkaConnection, group: str, topic: str) -> int | None:
    consumer = AIOKafkaConsumer(**kafka.aiokafka_options(), group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.committed(TopicPartition(topic, 0))
    finally:
        await consumer.stop()


async def test_redrive_puts_dead_letters_back_on_their_topic_once(engine, kafka, topics):
    topic, dead_letters = topics
    broken = binary(ThingCounted(occurred_on=date(2025, 5, 1), thing="fixed", amount=7), "thing-fixed")
    producer = AIOKafkaProducer(**kafka.aiokafka_options())
    await producer.start()
    reason = {"dlq-reason": b"apply failed", "dlq-source-topic": topic.encode(), "dlq-source-offset": b"0"}
    await producer.send_and_wait(dead_letters, broken[1], key=broken[0], headers=broken[2] + list(reason.items()))
    await producer.stop()
    group = f"{topic}.redrive"

    first = await redrive(kafka, dead_letters, group)
    again = await redrive(kafka, dead_letters, group)

    assert (first.sent, first.by_topic, again.sent) == (1, {topic: 1}, 0)
    [record] = await read_topic(kafka, topic, 1)
    assert record.value == broken[1]
    assert not any(name.startswith("dlq-") for name, _ in record.headers)
    async with projector(engine, kafka, topic, dead_letters, group=f"{topic}.g"):

        async def counted():
            assert await read_totals(engine) == {"fixed": (7, 1)}

        await eventually(counted)
