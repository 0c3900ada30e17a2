"""Rebuild: replay topics from their earliest offset up to the end they had when the replay began."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka import TopicPartition as AioTopicPartition
from confluent_kafka import Consumer, KafkaException, TopicPartition

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

log = logging.getLogger(__name__)

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
    reader = LogReader(connection)
    try:
        total = await reader.open(topics)
        started = time.monotonic()
        runner.replaying = True
        try:
            done = await _drain(reader, runner, total, batch_size, on_progress)
        finally:
            runner.replaying = False
        await runner.finish_replay()
        return ReplayProgress(done, total, time.monotonic() - started)
    finally:
        await reader.close()


@dataclass(slots=True)
class LoggedRecord:
    """A record as the projector runner reads it (the attributes of aiokafka's ConsumerRecord it uses)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


class LogReader:
    """Reads topics from their earliest offsets up to the ends they had when reading began, through librdkafka
    (confluent-kafka): it fetches and parses the record batches on its own threads, where aiokafka spends ~8 µs of
    the event loop's CPU per record. No consumer group is joined and nothing is committed."""

    def __init__(self, connection: KafkaConnection) -> None:
        self._consumer = Consumer(
            connection.librdkafka_options()
            | {
                "group.id": "metrology-replay",  # librdkafka requires one; `assign` joins no group
                "enable.auto.commit": False,
                "enable.auto.offset.store": False,
                "client.id": "metrology-replay",
                "logger": log,
            }
        )
        self._ends: dict[tuple[str, int], int] = {}

    async def open(self, topics: Sequence[str]) -> int:
        """Assign every partition of `topics` from its earliest offset; returns how many records lie before the ends."""
        starts: list[TopicPartition] = []
        total = 0
        for topic in topics:
            metadata = await asyncio.to_thread(self._consumer.list_topics, topic, 30)
            found = metadata.topics.get(topic)
            partitions = sorted(found.partitions) if found is not None and found.error is None else []
            for partition in partitions:
                low, high = await asyncio.to_thread(
                    self._consumer.get_watermark_offsets, TopicPartition(topic, partition), 30
                )
                if high > low:
                    self._ends[(topic, partition)] = high
                    starts.append(TopicPartition(topic, partition, low))
                    total += high - low
        self._consumer.assign(starts)
        return total

    @property
    def finished(self) -> bool:
        return not self._ends

    async def next_batch(self, size: int) -> list[LoggedRecord]:
        """Up to `size` records before the ends, in order within each partition."""
        messages = await asyncio.to_thread(self._consumer.consume, size, 1.0)
        records = []
        for message in messages:
            error = message.error()
            if error is not None:
                raise KafkaException(error)
            topic, partition, offset = str(message.topic()), int(message.partition() or 0), int(message.offset() or 0)
            end = self._ends.get((topic, partition))
            if end is None or offset >= end:
                continue
            headers: Any = message.headers() or []  # a list of (name, bytes), as the records were published
            records.append(LoggedRecord(topic, partition, offset, message.key(), message.value(), headers))
            if offset + 1 >= end:
                del self._ends[(topic, partition)]
        return records

    async def close(self) -> None:
        await asyncio.to_thread(self._consumer.close)


async def _drain(
    reader: LogReader,
    runner: ProjectorRunner,
    total: int,
    batch_size: int,
    on_progress: ProgressCallback | None,
) -> int:
    """Apply batches one after another, each decoded while the one before is in the database: the decoding's CPU
    and the database's work overlap, and each batch still commits before the next one begins."""
    started = time.monotonic()
    done = 0
    applying: asyncio.Task[Any] | None = None
    try:
        while not reader.finished:
            wanted = await reader.next_batch(batch_size)  # one transaction for what every partition brought
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
    return done


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
            AioTopicPartition(dead_letter_topic, p) for p in consumer.partitions_for_topic(dead_letter_topic) or ()
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
