"""One subscription's reader: a plain aiokafka consumer (no consumer group) over every partition of the platform's
topics, starting from the offsets the subscription committed in its database.

Each topic partition is a lane: the records fetched for it are handed to the deliverer, the partition is paused
while they are delivered, and then sought to the lane's committed offset and resumed. A lane held up by a failing
receiver does not stop the subscription's other lanes, nor any other subscription (each has its own reader).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, TopicPartition

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.ids import distinctive_part
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.topics import topic_partitions
from metrology.webhooks.adapters.delivery_log import SqlAlchemyDeliveryLog
from metrology.webhooks.application.delivery import Deliverer, LaneEnd, Record, Target

log = logging.getLogger(__name__)
REDELIVERY_LOOK_SECONDS = 1.0  # how often a reader looks for dead letters queued for redelivery


def read_record(
    topic: str, partition: int, offset: int, headers: Sequence[tuple[str, bytes]], value: bytes | None
) -> Record:
    try:
        envelope: Envelope | None = Envelope.from_kafka(headers, value)
    except Exception as error:  # not an event of this platform: nothing a receiver could be sent
        log.warning("%s[%d]@%d is not a readable event (%s); skipped", topic, partition, offset, error)
        envelope = None
    return Record(topic, partition, offset, envelope)


async def partitions_of(connection: KafkaConnection, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of `topics`; TopicNotReadyError while the broker cannot describe one (the lane starts again
    later rather than read none of that topic's events)."""
    described = await topic_partitions(connection, topics)
    return [TopicPartition(topic, partition) for topic in topics for partition in described[topic]]


class SubscriptionReader:
    def __init__(
        self,
        connection: KafkaConnection,
        topics: Sequence[str],
        target: Target,
        start_from: str,
        created_at: datetime,
        deliverer: Deliverer,
        delivery_log: SqlAlchemyDeliveryLog,
        *,
        batch_size: int = 100,
    ) -> None:
        self.connection = connection
        self.topics = list(topics)
        self.target = target
        self.start_from = start_from
        self.created_at = created_at
        self.deliverer = deliverer
        self.log = delivery_log
        self.batch_size = batch_size

    async def run(self, stop: asyncio.Event) -> LaneEnd:
        """Deliver until `stop` is set (STOPPED) or the receiver answers 410 Gone (GONE)."""
        partitions = await partitions_of(self.connection, self.topics)
        consumer = AIOKafkaConsumer(
            **self.connection.aiokafka_options(),
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            client_id=f"metrology-webhooks-{distinctive_part(self.target.subscription_id, 8)}",
        )
        await consumer.start()
        try:
            consumer.assign(partitions)
            await self._seek_to_start(consumer, partitions)
            return await self._deliver(consumer, stop)
        finally:
            await consumer.stop()

    async def _seek_to_start(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        stored = await self.log.offsets(self.target.subscription_id)
        fresh = [tp for tp in partitions if (tp.topic, tp.partition) not in stored]
        starts = {
            (tp.topic, tp.partition): offset
            for tp in partitions
            if (offset := stored.get((tp.topic, tp.partition))) is not None
        }
        if fresh:
            starts |= await self._first_offsets(consumer, fresh)
            await self.log.start_at(self.target.subscription_id, {k: v for k, v in starts.items() if k not in stored})
        for tp in partitions:
            consumer.seek(tp, starts[(tp.topic, tp.partition)])

    async def _first_offsets(
        self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
    ) -> dict[tuple[str, int], int]:
        """Where a new subscription starts: the first record since its creation, or the beginning."""
        beginning = await consumer.beginning_offsets(partitions)
        if self.start_from == "earliest":
            return {(tp.topic, tp.partition): beginning[tp] for tp in partitions}
        end = await consumer.end_offsets(partitions)
        created = self.created_at if self.created_at.tzinfo else self.created_at.replace(tzinfo=UTC)
        created_ms = int(created.timestamp() * 1000)
        found = await consumer.offsets_for_times({tp: created_ms for tp in partitions})
        return {
            (tp.topic, tp.partition): found[tp].offset if found.get(tp) is not None else end[tp] for tp in partitions
        }

    async def _deliver(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> LaneEnd:
        lanes: dict[TopicPartition, asyncio.Task[LaneEnd]] = {}
        ending = asyncio.Event()  # the subscription's own stop: the worker's, or a lane that met 410
        watcher = asyncio.create_task(_relay_stop(stop, ending))
        redelivery: asyncio.Task[LaneEnd] | None = None
        next_look = 0.0
        end = LaneEnd.STOPPED
        try:
            while not ending.is_set():
                if redelivery is not None and redelivery.done():
                    if redelivery.result() is LaneEnd.GONE:
                        end = LaneEnd.GONE
                        ending.set()
                    redelivery = None
                if redelivery is None and asyncio.get_running_loop().time() >= next_look:
                    next_look = asyncio.get_running_loop().time() + REDELIVERY_LOOK_SECONDS
                    letters = await self.log.queued(self.target.subscription_id)
                    if letters:
                        redelivery = asyncio.create_task(self.deliverer.redeliver(self.target, letters, ending))
                batches = await consumer.getmany(timeout_ms=200, max_records=self.batch_size)
                for tp, messages in batches.items():
                    records = [read_record(m.topic, m.partition, m.offset, m.headers, m.value) for m in messages]
                    consumer.pause(tp)
                    lanes[tp] = asyncio.create_task(self.deliverer.deliver_lane(self.target, records, ending))
                end = await self._collect(consumer, lanes, ending) or end
            await asyncio.gather(*lanes.values(), *([redelivery] if redelivery else []), return_exceptions=True)
            return end
        finally:
            watcher.cancel()
            for task in [*lanes.values(), *([redelivery] if redelivery else [])]:
                task.cancel()

    async def _collect(
        self, consumer: AIOKafkaConsumer, lanes: dict[TopicPartition, asyncio.Task[LaneEnd]], ending: asyncio.Event
    ) -> LaneEnd | None:
        """Resume the partitions whose lanes finished, from the offset each committed."""
        done = [tp for tp, task in lanes.items() if task.done()]
        if not done:
            return None
        stored = await self.log.offsets(self.target.subscription_id)
        gone = None
        for tp in done:
            task = lanes.pop(tp)
            result = task.result()  # a lane that raised stops the reader; the worker starts it again
            if result is LaneEnd.GONE:
                gone = LaneEnd.GONE
                ending.set()
                continue
            if result is LaneEnd.FINISHED:
                consumer.seek(tp, stored[(tp.topic, tp.partition)])
                consumer.resume(tp)
        return gone


async def _relay_stop(stop: asyncio.Event, ending: asyncio.Event) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        await stop.wait()
        ending.set()
