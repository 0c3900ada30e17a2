"""Rebuild: replay topics from their earliest offset up to the end they had when the replay began."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.projector import ProjectorRunner


@dataclass(frozen=True, slots=True)
class ReplayProgress:
    done: int
    total: int
    elapsed: float

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float:
        return (self.total - self.done) / self.rate if self.rate > 0 else 0.0


ProgressCallback = Callable[[ReplayProgress], None]

READ_SLICE = 200  # records decoded between two turns of the event loop while a batch is in the database


async def rebuild(
    connection: KafkaConnection,
    runner: ProjectorRunner,
    topics: Sequence[str],
    *,
    batch_size: int = 2000,
    on_progress: ProgressCallback | None = None,
) -> ReplayProgress:
    """Reset the projection, then apply every record up to today's end of each partition; a projection that derives
    rows after a replay (`DerivesAfterReplay`) derives them at the end, within the time reported."""
    await runner.reset()
    consumer = AIOKafkaConsumer(**connection.aiokafka_options(), enable_auto_commit=False, group_id=None)
    await consumer.start()
    try:
        await _load_metadata(consumer, topics)
        partitions = [
            TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        total = sum(ends[tp] - starts[tp] for tp in partitions)
        started = time.monotonic()
        runner.replaying = True
        try:
            done = await _drain(consumer, runner, ends, total, batch_size, on_progress)
        finally:
            runner.replaying = False
        await runner.finish_replay()
        return ReplayProgress(done.done, done.total, time.monotonic() - started)
    finally:
        await consumer.stop()


async def _drain(
    consumer: AIOKafkaConsumer,
    runner: ProjectorRunner,
    ends: dict[TopicPartition, int],
    total: int,
    batch_size: int,
    on_progress: ProgressCallback | None,
) -> ReplayProgress:
    """Apply batches one after another, each decoded while the one before is in the database: the decoding's CPU
    and the database's work overlap, and each batch still commits before the next one begins."""
    started = time.monotonic()
    done = 0
    remaining = {tp for tp, end in ends.items() if end > 0}
    for tp in list(remaining):
        if await consumer.position(tp) >= ends[tp]:
            remaining.discard(tp)
    applying: asyncio.Task[Any] | None = None
    try:
        while remaining:
            fetched = await consumer.getmany(*remaining, timeout_ms=1000, max_records=batch_size)
            wanted = []  # one transaction for what every partition brought (each partition's records stay in order)
            for tp, records in fetched.items():
                wanted += [r for r in records if r.offset < ends[tp]]
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
            if wanted:
                batch = await runner.read_in_slices(wanted, READ_SLICE)
                if applying is not None:
                    await applying
                applying = asyncio.ensure_future(runner.apply(batch))
                done += len(wanted)
            if on_progress:
                on_progress(ReplayProgress(done, total, time.monotonic() - started))
        if applying is not None:
            await applying
    finally:
        if applying is not None and not applying.done():
            applying.cancel()
            await asyncio.gather(applying, return_exceptions=True)
    return ReplayProgress(done, total, time.monotonic() - started)


async def _load_metadata(consumer: AIOKafkaConsumer, topics: Sequence[str]) -> None:
    """A consumer with no subscription knows no partitions until its client's metadata covers the topics."""
    client = consumer._client  # aiokafka offers no public way to refresh metadata for an unsubscribed consumer
    for topic in topics:
        client.add_topic(topic)
    await client.force_metadata_update()


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
    await consumer.start()
    await producer.start()
    by_topic: dict[str, int] = {}
    try:
        await _load_metadata(consumer, [dead_letter_topic])
        partitions = [
            TopicPartition(dead_letter_topic, p) for p in consumer.partitions_for_topic(dead_letter_topic) or ()
        ]
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
