"""Rebuild: replay topics from their earliest offset up to the end they had when the replay began."""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from metrology.eventkit import event_loop
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.projector import READ_SLICE, ProjectorRunner, ReadBatch
from metrology.eventkit.topics import topic_partitions


@dataclass(frozen=True, slots=True)
class ReplayProgress:
    done: int
    total: int
    elapsed: float
    finishing: float = 0.0  # of `elapsed`, the seconds after the last record: a projection's derivations

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    def described(self) -> str:
        """The line a rebuild ends with: what it replayed, how fast, and how long it took to finish after the last
        record (deriving aggregates, `DerivesAfterReplay`) when that was a tenth of a second or more. Operators size
        a rebuild from the two parts: the replay grows with the log, the derivations with the read model."""
        finished = f"; {self.finishing:.1f}s of it after the last record" if self.finishing >= 0.1 else ""
        return f"rebuilt {self.done} events in {self.elapsed:.1f}s ({self.rate:,.0f} events/s{finished})"

    @property
    def eta(self) -> float:
        return (self.total - self.done) / self.rate if self.rate > 0 else 0.0


ProgressCallback = Callable[[ReplayProgress], None]


RunnerFactory = Callable[[], AbstractAsyncContextManager[tuple[KafkaConnection, ProjectorRunner]]]


@dataclass(frozen=True, slots=True)
class ReplayLanes:
    """A replay spread over `count` processes, each applying the partitions it takes from a shared queue with a
    runner of its own (made by `runners`, which must pickle: a module-level function or a partial of one). A
    partition is applied in order by the one process that took it; what the lanes write concurrently are other
    streams' rows.
    Needs a database that takes concurrent writers (PostgreSQL)."""

    count: int
    runners: RunnerFactory


async def rebuild(
    connection: KafkaConnection,
    runner: ProjectorRunner,
    topics: Sequence[str],
    *,
    batch_size: int = 2000,
    on_progress: ProgressCallback | None = None,
    lanes: ReplayLanes | LaneProcesses | None = None,
) -> ReplayProgress:
    """Reset the projection, then apply every record up to today's end of each partition; a projection that derives
    rows after a replay (`DerivesAfterReplay`) derives them at the end, within the time reported. With `lanes`, the
    partitions are shared among processes: started here (before the reset, so that their start-up overlaps it), or
    already started (`LaneProcesses.start`, forked before the caller's event loop began); they are stopped at the
    end either way."""
    if isinstance(lanes, LaneProcesses):
        processes: LaneProcesses | None = lanes
    else:
        processes = LaneProcesses.start(lanes) if lanes is not None and lanes.count > 1 else None
    try:
        spans = await partition_spans(connection, topics)  # first: a broker that cannot tell leaves the model as it was
        await runner.reset()
        total = sum(end - start for start, end in spans.values())
        started = time.monotonic()

        def report(done: int) -> None:
            if on_progress:
                on_progress(ReplayProgress(done, total, time.monotonic() - started))

        if processes is not None:
            done, dead_letters = await processes.replay(queued_partitions(spans), batch_size, report)
            runner.stats.dead_lettered += dead_letters
        else:
            ends = {tp: end for tp, (_, end) in spans.items()}
            done = await replay_partitions(connection, runner, ends, batch_size, report)
        replayed = time.monotonic()
        await runner.finish_replay()
        ended = time.monotonic()
        return ReplayProgress(done, total, ended - started, ended - replayed)
    finally:
        if processes is not None:
            processes.stop()


async def partition_spans(connection: KafkaConnection, topics: Sequence[str]) -> dict[TopicPartition, tuple[int, int]]:
    """The first and the end offset of every partition of `topics`, now."""
    described = await topic_partitions(connection, topics)  # a topic the broker cannot describe yet: an error
    partitions = [TopicPartition(topic, p) for topic in topics for p in described[topic]]
    consumer = AIOKafkaConsumer(**connection.aiokafka_options(), enable_auto_commit=False, group_id=None)
    try:
        await consumer.start()
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        return {tp: (starts[tp], ends[tp]) for tp in partitions}
    finally:
        await consumer.stop()


def queued_partitions(spans: dict[TopicPartition, tuple[int, int]]) -> list[tuple[TopicPartition, int]]:
    """The partitions that hold records, each with its end offset, the largest first: the order in which a replay's
    lanes take them (`take_next`). A lane takes the next partition when it has applied the one before, so the lanes
    end close together whatever each record costs, the last ones taken being the shortest."""
    holding = [(tp, (start, end)) for tp, (start, end) in spans.items() if end > start]
    return [(tp, end) for tp, (start, end) in sorted(holding, key=lambda item: (item[1][0] - item[1][1], item[0]))]


def take_next(queued: Sequence[tuple[TopicPartition, int]], taken: Any) -> tuple[TopicPartition, int] | None:
    """The next partition of `queued` not yet taken by any lane, or None when every one is; `taken` is the count
    taken so far, a `multiprocessing.Value` the lanes share, read and moved under its lock."""
    with taken.get_lock():
        index = taken.value
        if index >= len(queued):
            return None
        taken.value = index + 1
    return queued[index]


async def replay_partitions(
    connection: KafkaConnection,
    runner: ProjectorRunner,
    ends: dict[TopicPartition, int],
    batch_size: int,
    report: Callable[[int], None] | None = None,
) -> int:
    """Apply the records of `ends`' partitions from their beginning up to those ends; returns how many were read."""
    consumer = AIOKafkaConsumer(**connection.aiokafka_options(), enable_auto_commit=False, group_id=None)
    runner.replaying = True
    try:
        await consumer.start()
        partitions = list(ends)
        consumer.assign(partitions)
        if partitions:
            await consumer.seek_to_beginning(*partitions)
        return await _drain(consumer, runner, ends, batch_size, report)
    finally:
        runner.replaying = False
        await consumer.stop()


async def replay_taken(
    connection: KafkaConnection,
    runner: ProjectorRunner,
    take: Callable[[], tuple[TopicPartition, int] | None],
    batch_size: int,
    report: Callable[[int], None],
) -> int:
    """Apply partitions one after another, as `take` hands them out, each from its beginning up to its end; returns
    how many records were read. A lane that is handed nothing opens no consumer."""
    taken = take()
    if taken is None:
        return 0
    consumer = AIOKafkaConsumer(**connection.aiokafka_options(), enable_auto_commit=False, group_id=None)
    runner.replaying = True
    done = 0
    try:
        await consumer.start()
        while taken is not None:
            partition, end = taken
            consumer.assign([partition])
            await consumer.seek_to_beginning(partition)
            done += await _drain(consumer, runner, {partition: end}, batch_size, functools.partial(_plus, done, report))
            taken = take()
        return done
    finally:
        runner.replaying = False
        await consumer.stop()


def _plus(before: int, report: Callable[[int], None], done: int) -> None:
    report(before + done)


async def _drain(
    consumer: AIOKafkaConsumer,
    runner: ProjectorRunner,
    ends: dict[TopicPartition, int],
    batch_size: int,
    report: Callable[[int], None] | None,
) -> int:
    """Apply batches one after another, each decoded while the one before is in the database: the decoding's CPU
    and the database's work overlap, and each batch still commits before the next one begins."""
    done = 0
    remaining = {tp for tp, end in ends.items() if end > 0}
    for tp in list(remaining):
        if await consumer.position(tp) >= ends[tp]:
            remaining.discard(tp)
    applying: asyncio.Task[Any] | None = None
    try:
        while remaining:
            batch, taken = await _next_batch(consumer, runner, ends, remaining, batch_size, applying)
            if batch is not None:
                if applying is not None:
                    await applying
                applying = asyncio.ensure_future(runner.apply(batch))
                await asyncio.sleep(0)  # its first statement sent before the next fetch's records are unpacked
                done += taken
            if report:
                report(done)
        if applying is not None:
            await applying
    finally:
        if applying is not None and not applying.done():
            applying.cancel()
            await asyncio.gather(applying, return_exceptions=True)
    return done


async def _next_batch(
    consumer: AIOKafkaConsumer,
    runner: ProjectorRunner,
    ends: dict[TopicPartition, int],
    remaining: set[TopicPartition],
    batch_size: int,
    applying: asyncio.Future[Any] | None,
) -> tuple[ReadBatch | None, int]:
    """Up to `batch_size` records of the `remaining` partitions (up to their ends), read as each fetch brings them,
    and how many: one transaction for what every partition brought, each partition's records in order. While the
    batch before is in the database it fetches again: a fetch hands over what aiokafka holds, sometimes a
    partition's last few records, and a batch of those would cost a transaction of its own."""
    batch: ReadBatch | None = None
    taken = 0
    while remaining and taken < batch_size:
        fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=batch_size - taken)
        wanted = []
        for tp, records in fetched.items():
            wanted += [r for r in records if r.offset < ends[tp]]
            if records and records[-1].offset + 1 >= ends[tp]:
                remaining.discard(tp)
        if wanted:
            read = await runner.read_in_slices(wanted, READ_SLICE)
            batch = read if batch is None else batch.joined(read)
            taken += len(wanted)
        if applying is None or applying.done():
            break
    return batch, taken


class ReplayLaneError(RuntimeError):
    """A lane of a replay in processes failed; the others were stopped."""


class LaneProcesses:
    """The processes of a replay's lanes: started at once, handed the queue of partitions, watched until every one
    is done.

    A spawned process imports and wires its runner's code (seconds, for a service) while the replay's own process
    resets the read model; the reset now takes a fraction of that, so what remains of the import is replay time.
    Forked from a process that has imported the code already, a lane is ready at once: `start(lanes, fork=True)`
    forks when that is safe, from a process with one thread and no event loop running (a command, before its
    `asyncio.run`: nothing but the imported code is inherited), and spawns otherwise."""

    POLL_SECONDS = 0.2

    def __init__(self, lanes: ReplayLanes, *, fork: bool) -> None:
        context = multiprocessing.get_context("fork") if fork else multiprocessing.get_context("spawn")
        self.count = lanes.count
        self.start_method = context.get_start_method()
        self._counters = context.RawArray("q", lanes.count)  # records read by each lane, for progress
        self._results = context.SimpleQueue()
        self._taken = context.Value("q", 0)  # partitions of the queue taken so far, by any lane
        self._orders = [context.SimpleQueue() for _ in range(lanes.count)]
        self._processes = [
            context.Process(
                target=_lane_main,
                args=(lanes.runners, lane, self._orders[lane], self._taken, self._counters, self._results),
                name=f"replay-lane-{lane}",
                daemon=True,
            )
            for lane in range(lanes.count)
        ]

    @classmethod
    def start(cls, lanes: ReplayLanes, *, fork: bool = False) -> LaneProcesses:
        processes = cls(lanes, fork=fork and _safe_to_fork())
        for process in processes._processes:
            process.start()
        return processes

    async def replay(
        self, queued: list[tuple[TopicPartition, int]], batch_size: int, report: Callable[[int], None]
    ) -> tuple[int, int]:
        """Let the lanes take the partitions of `queued` in turn (`take_next`); wait for all. Returns the records
        read and the dead letters counted."""
        for orders in self._orders:
            orders.put((queued, batch_size))
        finished: dict[int, tuple[int, int]] = {}
        while len(finished) < self.count:
            await asyncio.sleep(self.POLL_SECONDS)
            report(sum(self._counters))
            while not self._results.empty():
                lane, done, dead_letters, error = self._results.get()
                if error is not None:
                    raise ReplayLaneError(f"replay lane {lane} failed: {error}")
                finished[lane] = (done, dead_letters)
            for lane, process in enumerate(self._processes):
                if lane not in finished and process.exitcode is not None and self._results.empty():
                    raise ReplayLaneError(f"replay lane {lane} exited with code {process.exitcode}")
        report(sum(done for done, _ in finished.values()))
        return sum(done for done, _ in finished.values()), sum(dead for _, dead in finished.values())

    def stop(self) -> None:
        """End the lanes (those still running are terminated); stopping twice does nothing more."""
        for process in self._processes:
            if process.is_alive():
                process.terminate()
        for process in self._processes:
            process.join()


def _safe_to_fork() -> bool:
    """Whether a child forked now inherits nothing it could break: one thread (no lock held by another), no event
    loop running (no selector or connection of it in use), and a platform that forks."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        running = False
    else:
        running = True
    return not running and threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods()


def _lane_main(runners: RunnerFactory, lane: int, orders: Any, taken: Any, counters: Any, results: Any) -> None:
    """A lane's process: wait for the queue of partitions, apply those it takes with a runner of its own, report
    what it did. It ends at once if the replay's process does (killed, say), rather than go on writing beside the
    next rebuild."""
    _exit_with_parent()
    queued, batch_size = orders.get()
    try:
        done, dead_letters = event_loop.run(_lane(runners, lane, queued, taken, batch_size, counters))
    except BaseException as error:
        results.put((lane, 0, 0, f"{type(error).__name__}: {error}"))
        raise
    results.put((lane, done, dead_letters, None))


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_when_gone, args=(parent.sentinel,), name="parent-watch", daemon=True).start()


def _exit_when_gone(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(PARENT_GONE)


PARENT_GONE = 3  # a lane's exit code when the replay's process went away


async def _lane(
    runners: RunnerFactory,
    lane: int,
    queued: list[tuple[TopicPartition, int]],
    taken: Any,
    batch_size: int,
    counters: Any,
) -> tuple[int, int]:
    def report(done: int) -> None:
        counters[lane] = done

    async with runners() as (connection, runner):
        done = await replay_taken(connection, runner, lambda: take_next(queued, taken), batch_size, report)
        return done, runner.stats.dead_lettered


@dataclass(frozen=True, slots=True)
class Redriven:
    sent: int
    by_topic: dict[str, int]


async def redrive(
    connection: KafkaConnection, dead_letter_topic: str, group_id: str, *, limit: int | None = None
) -> Redriven:
    """Put dead letters back on the topics they came from, as they were (without the dead-letter headers).

    Reads `dead_letter_topic` as consumer group `group_id` from where the last redrive stopped, up to the end it
    has now, and commits after each record is republished: a crash re-sends at most the record in flight, which
    consumers drop by event id. Run it after the fix that makes the records readable or applicable is deployed.
    """
    from aiokafka import AIOKafkaProducer

    from metrology.eventkit.consumers import DLQ_SOURCE_TOPIC

    consumer = AIOKafkaConsumer(
        **connection.aiokafka_options(), group_id=group_id, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    producer = AIOKafkaProducer(**connection.aiokafka_options(), acks="all", enable_idempotence=True)
    by_topic: dict[str, int] = {}
    try:
        await consumer.start()
        await producer.start()
        described = await topic_partitions(connection, [dead_letter_topic])  # not described yet: an error, not 0
        partitions = [TopicPartition(dead_letter_topic, p) for p in described[dead_letter_topic]]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            committed = await consumer.committed(tp)
            if committed:
                consumer.seek(tp, committed)
            else:
                await consumer.seek_to_beginning(tp)
        sent = 0
        remaining = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
        while remaining and (limit is None or sent < limit):
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=100)
            for tp, records in fetched.items():
                for record in records:
                    if record.offset >= ends[tp] or (limit is not None and sent >= limit):
                        remaining.discard(tp)
                        break
                    headers = [(name, value) for name, value in record.headers if not name.startswith("dlq-")]
                    source = dict(record.headers).get(DLQ_SOURCE_TOPIC, b"").decode()
                    if source:
                        await (await producer.send(source, record.value, key=record.key, headers=headers))
                        by_topic[source] = by_topic.get(source, 0) + 1
                        sent += 1
                    await consumer.commit({tp: record.offset + 1})
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
        return Redriven(sent, by_topic)
    finally:
        await producer.stop()
        await consumer.stop()
