"""Reading a topic from an offset or a time, and rebuilding a service's consumers, for `replay` and `rebuild`.

`read_topic` is a plain reader (no consumer group, nothing committed): it takes the end of each partition when it
starts and stops there. `rebuild_subscription` empties one projection and replays its topics from the earliest
offsets (the kit's `rebuild`), then moves the projection's consumer group to the ends the topics had before the
replay began, so a consumer started afterwards does not read the history again. Whatever it does re-read (events
appended during the rebuild, or every event when the group could not be moved) is skipped by the tracking table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaConnectionError, KafkaError

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.projector import DeadLetter, ProjectorRunner
from metrology.eventkit.replay import LaneProcesses, ProgressCallback, ReplayLanes, ReplayProgress, rebuild
from metrology.eventkit.topics import NoSuchTopicError, partition_ends, topic_partitions
from metrology.servicekit.collector import settle_garbage_collector
from metrology.servicekit.runtime import ServiceRuntime, Subscription


@dataclass(frozen=True, slots=True)
class ReplayStart:
    """Where `read_topic` begins: an offset, or the first record at or after a time (else the earliest)."""

    from_offset: int | None = None
    from_time: datetime | None = None
    partition: int | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class ReplayedRecord:
    topic: str
    partition: int
    offset: int
    timestamp: datetime
    key: str | None
    envelope: Envelope | None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        where = {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp": self.timestamp.isoformat(),
            "key": self.key,
        }
        if self.envelope is None:
            return where | {"error": self.error}
        e = self.envelope
        return where | {
            "id": e.id,
            "type": e.type,
            "source": e.source,
            "time": e.time.isoformat(),
            "subject": e.subject,
            "streamid": e.stream_id,
            "streamversion": e.stream_version,
            "tenant": e.tenant,
            "correlationid": e.correlation_id,
            "causationid": e.causation_id,
            "data": e.data,
        }


def replayed(record: Any) -> ReplayedRecord:
    """A consumed record, decoded (binary or structured mode); one that cannot be read carries its reason."""
    timestamp = datetime.fromtimestamp(record.timestamp / 1000, UTC)
    key = record.key.decode(errors="replace") if record.key is not None else None
    try:
        envelope = Envelope.from_kafka(list(record.headers or ()), record.value)
    except (ValueError, KeyError, TypeError) as error:
        return ReplayedRecord(record.topic, record.partition, record.offset, timestamp, key, None, str(error))
    return ReplayedRecord(record.topic, record.partition, record.offset, timestamp, key, envelope)


async def read_topic(connection: KafkaConnection, topic: str, start: ReplayStart) -> AsyncIterator[ReplayedRecord]:
    """The records of `topic` from `start` up to the end each partition had when reading began."""
    # earliest: the reset aiokafka starts on assignment must not race a seek to the beginning towards the end
    consumer = AIOKafkaConsumer(
        **connection.aiokafka_options(), enable_auto_commit=False, group_id=None, auto_offset_reset="earliest"
    )
    try:
        await consumer.start()
        partitions = await _partitions(connection, [topic], start.partition)
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await _seek(consumer, partitions, start)
        remaining = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        left = start.limit
        while remaining and (left is None or left > 0):
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=500)
            for tp, records in fetched.items():
                for record in records:
                    if record.offset >= ends[tp] or (left is not None and left <= 0):
                        break
                    yield replayed(record)
                    left = None if left is None else left - 1
                if await consumer.position(tp) >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()


async def _partitions(connection: KafkaConnection, topics: Sequence[str], only: int | None) -> list[TopicPartition]:
    described = await topic_partitions(connection, topics)  # a topic the broker cannot describe yet: an error
    found = [TopicPartition(t, p) for t in topics for p in described[t]]
    if not found:
        raise NoSuchTopicError(f"no such topic: {', '.join(topics)}")
    if only is not None:
        found = [tp for tp in found if tp.partition == only]
        if not found:
            raise LookupError(f"{', '.join(topics)} has no partition {only}")
    return found


async def _seek(consumer: AIOKafkaConsumer, partitions: list[TopicPartition], start: ReplayStart) -> None:
    for tp in partitions:  # wait out the reset that assignment started, so that it cannot undo the seek
        await consumer.position(tp)
    if start.from_time is not None:
        millis = int(start.from_time.timestamp() * 1000)
        found = await consumer.offsets_for_times({tp: millis for tp in partitions})
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, found[tp].offset if found.get(tp) else ends[tp])
        return
    if start.from_offset is None:
        await consumer.seek_to_beginning(*partitions)
        return
    beginnings = await consumer.beginning_offsets(partitions)
    for tp in partitions:
        consumer.seek(tp, max(start.from_offset, beginnings[tp]))


# --- rebuild ---------------------------------------------------------------------------------------------------


@dataclass
class CountedDeadLetters:
    """Records a rebuild cannot read are counted, not sent again: the running consumer dead-lettered them already."""

    letters: list[DeadLetter] = field(default_factory=list)

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        self.letters.extend(letters)


@dataclass(frozen=True, slots=True)
class RebuildResult:
    name: str
    progress: ReplayProgress
    dead_letters: int
    group_moved: bool
    group_note: str


def subscriptions_named(runtime: ServiceRuntime, name: str | None) -> list[Subscription]:
    """Every subscription of the service, or the one whose projection is `name`."""
    chosen = [s for s in runtime.subscriptions if name is None or s.projection.name == name]
    if not chosen:
        known = ", ".join(s.projection.name for s in runtime.subscriptions) or "none"
        raise LookupError(f"no consumer named {name!r} in {runtime.name} (its consumers: {known})")
    return chosen


async def rebuild_subscription(
    runtime: ServiceRuntime,
    subscription: Subscription,
    *,
    batch_size: int = 2000,
    on_progress: ProgressCallback | None = None,
    workers: int = 1,
    make_runtime: Callable[[], ServiceRuntime] | None = None,
    lanes: LaneProcesses | None = None,
) -> RebuildResult:
    """Rebuild one projection. With `workers` > 1 the partitions are replayed by that many processes, each wiring
    the service with `make_runtime` (picklable: a partial of the service's `bootstrap`); PostgreSQL only. A command
    starts those processes before its event loop (`start_lanes`) and passes them as `lanes`: forked, they begin
    with the service's code already imported."""
    connection = runtime.settings.kafka()
    before = await end_offsets(connection, subscription.topics)
    letters = CountedDeadLetters()
    runner = ProjectorRunner(runtime.sessions, subscription.projection, letters)
    if lanes is None and workers > 1:
        lanes = start_lanes(runtime, subscription, workers, make_runtime)
    progress = await rebuild(
        connection, runner, subscription.topics, batch_size=batch_size, on_progress=on_progress, lanes=lanes
    )
    moved, note = await move_group(connection, subscription.group_id, before)
    return RebuildResult(subscription.projection.name, progress, runner.stats.dead_lettered, moved, note)


def start_lanes(
    runtime: ServiceRuntime,
    subscription: Subscription,
    workers: int,
    make_runtime: Callable[[], ServiceRuntime] | None,
) -> LaneProcesses | None:
    """The `workers` processes that will replay `subscription`'s partitions (None for one: the rebuild's own process
    replays them), started now: forked when called before any event loop and thread (see `LaneProcesses`)."""
    if workers <= 1:
        return None
    check_workers(runtime, workers)
    if make_runtime is None:
        raise ValueError("a rebuild in several processes needs the service's wiring (make_runtime)")
    runners = SubscriptionRunners(make_runtime, subscription.projection.name)
    return LaneProcesses.start(ReplayLanes(workers, runners), fork=True)


def check_workers(runtime: ServiceRuntime, workers: int) -> None:
    """Raise ValueError when `workers` processes cannot rebuild this service's read model."""
    if workers > 1 and runtime.engine.dialect.name != "postgresql":
        raise ValueError(
            f"--workers {workers} needs PostgreSQL: SQLite takes one writer at a time (rebuild with --workers 1)"
        )


@dataclass(frozen=True, slots=True)
class SubscriptionRunners:
    """In a replay lane's process: the service wired afresh, and a runner of the projection named `projection`
    (what the lane's dead letters were is counted, not sent: the running consumer dead-lettered them already)."""

    make_runtime: Callable[[], ServiceRuntime]
    projection: str

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[tuple[KafkaConnection, ProjectorRunner]]:
        runtime = self.make_runtime()
        settle_garbage_collector(runtime.settings.gc_young_threshold_folds)
        try:
            subscription = subscriptions_named(runtime, self.projection)[0]
            yield (
                runtime.settings.kafka(),
                ProjectorRunner(runtime.sessions, subscription.projection, CountedDeadLetters()),
            )
        finally:
            await runtime.dispose()


async def end_offsets(connection: KafkaConnection, topics: Sequence[str]) -> dict[TopicPartition, int]:
    ends = await partition_ends(connection, topics)
    if not ends:
        raise NoSuchTopicError(f"no such topic: {', '.join(topics)}")
    return ends


async def move_group(
    connection: KafkaConnection, group_id: str, offsets: dict[TopicPartition, int]
) -> tuple[bool, str]:
    """Commit `offsets` for `group_id`; Kafka refuses while the group has live members (a running consumer)."""
    consumer = AIOKafkaConsumer(**connection.aiokafka_options(), enable_auto_commit=False, group_id=group_id)
    try:
        await consumer.start()
        consumer.assign(list(offsets))
        await consumer.commit(dict(offsets))
    except KafkaConnectionError as error:
        return False, (
            f"group {group_id} not moved: the broker could not be reached ({error}); its consumer will re-read "
            "from its own offsets and skip what the rebuild applied"
        )
    except KafkaError as error:
        return False, (
            f"group {group_id} not moved ({type(error).__name__}): a consumer of it is running or its session has "
            "not expired; it will re-read from its own offsets and skip what the rebuild applied"
        )
    finally:
        await consumer.stop()
    return True, f"group {group_id} set to the ends the topics had when the rebuild began"
