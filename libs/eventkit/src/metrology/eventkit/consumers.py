"""FastStream wiring for projections: a batch subscriber that commits offsets only after the read model.

FastStream's Kafka default (ACK_FIRST) commits before the handler runs, i.e. at most once. Projections use
NACK_ON_ERROR: the offset is committed after the handler returns, and an error rewinds the partitions to the
batch's first record so nothing is lost; duplicates that follow are dropped by the tracking table.

A partition the runner holds (a record newer than this reader knows) is rewound to that record and paused, so
the offset committed for it is the held record's: an upgraded consumer resumes exactly there.

Static group membership (KIP-345): with a `group_instance_id`, a consumer killed and restarted under the same id
takes its partitions back at once, without waiting out its old session or a rebalance.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.projector import READ_SLICE, DeadLetter, Held, ProjectorRunner, ReadBatch

log = logging.getLogger(__name__)

DLQ_REASON = "dlq-reason"
DLQ_SOURCE_TOPIC = "dlq-source-topic"
DLQ_SOURCE_PARTITION = "dlq-source-partition"
DLQ_SOURCE_OFFSET = "dlq-source-offset"


BROKER_LOGGER = "metrology.eventkit.broker"


def new_broker(connection: KafkaConnection, **options: Any) -> KafkaBroker:
    """A FastStream Kafka broker whose service messages (a subscriber's partitions assigned, a handler's error) go
    through the process's own log handlers, as JSON lines in a service, with the topic and group as fields. FastStream's
    own logger would write them to stdout in colour, beside the JSON lines on stderr."""
    options.setdefault("log_level", logging.DEBUG)  # one line per message is too much at INFO
    options.setdefault("logger", logging.getLogger(BROKER_LOGGER))
    return KafkaBroker(**connection.faststream_options(), **options)


class BrokerDeadLetterSink:
    """Publishes unreadable records to a dead-letter topic: value, key and headers unchanged, plus the reason.

    Keeping the original headers keeps a binary-mode CloudEvent whole, so `redrive` can put it back as it was.
    """

    def __init__(self, broker: KafkaBroker, topic: str) -> None:
        self.broker = broker
        self.topic = topic

    async def send(self, letters: Sequence[DeadLetter]) -> None:
        for letter in letters:
            record = letter.record
            original = {name: value.decode("utf-8", "replace") for name, value in record.headers or ()}
            await self.broker.publish(
                record.value or b"",
                topic=self.topic,
                key=record.key,
                headers=original
                | {
                    DLQ_REASON: letter.reason[:2000],
                    DLQ_SOURCE_TOPIC: record.topic,
                    DLQ_SOURCE_PARTITION: str(record.partition),
                    DLQ_SOURCE_OFFSET: str(record.offset),
                },
            )


def subscribe_projection(
    broker: KafkaBroker,
    runner: ProjectorRunner,
    topics: Sequence[str],
    group_id: str,
    *,
    max_records: int = 2000,
    group_instance_id: str | None = None,
    idle_wait_ms: int = 10,
    latecomers_wait_ms: int = 3,
    batches_per_commit: int = 10,
) -> None:
    """Feed `runner` from `topics` as consumer group `group_id`, from the earliest offset on first start.

    A fetch returns the records already there at once; with none, it waits `idle_wait_ms` and FastStream's batch
    subscriber then sleeps as long again before the next fetch. That sleep is time a record arriving at an idle
    projection waits for nothing (with FastStream's 100 ms default, ~100 ms one command at a time), so it is kept
    short: an idle consumer wakes 50 times a second, which costs little.

    Each batch also takes the records that reached the broker while the batch before was being applied (waiting
    up to `latecomers_wait_ms` for them): see `_latecomers`. While records keep coming, one call of the handler
    applies up to `batches_per_commit` batches, each read while the one before is in the database (`FoldInTurn`);
    FastStream then commits the offsets of every record taken."""

    @broker.subscriber(
        *topics,
        group_id=group_id,
        group_instance_id=group_instance_id or None,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=idle_wait_ms,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        parser=_batch_by_its_first_record,
        decoder=_records_as_they_are,
        title=f"{group_id}",
        description=f"Projection '{runner.projection.name}' folding {', '.join(topics)}",
    )
    async def project(_body: Any, message: KafkaMessage) -> None:
        fold = FoldInTurn(message.consumer, runner, max_records, latecomers_wait_ms)
        await fold.run(_records_of(message), batches_per_commit)


class FoldInTurn:
    """One call of a projection's handler: the batch FastStream gave, then, while records keep coming, the records
    that arrive as each batch is applied, read (decoded) while it is in the database and applied next.

    The decoding's CPU and the database's work overlap, as in a replay, and every batch still commits before the
    next one begins. FastStream commits the offsets after the call returns: those of every record taken, all of
    them applied by then. If a batch fails, the partitions are rewound to the first record taken from each (those
    of the given batch by FastStream's nack, the others here) and the partitions held in this call are resumed,
    so nothing is committed past a record not applied; what was applied before comes again and is dropped as a
    duplicate by tracking.

    A record newer than this reader knows holds its partition at once (rewound to it and paused), before anything
    more is fetched, and no record after it is read in this call."""

    FETCH_WAIT_MS = 60_000  # a fetch waiting for arrivals ends when the batch being applied does, long before this

    def __init__(self, consumer: Any, runner: ProjectorRunner, max_records: int, latecomers_wait_ms: int) -> None:
        self.consumer = consumer
        self.runner = runner
        self.max_records = max_records
        self.latecomers_wait_ms = latecomers_wait_ms
        # where a failed turn rewinds: the first offset taken from each partition beyond the batch FastStream gave
        # (the records themselves are let go once applied: a turn of ten batches kept up to 20,000 of them, and
        # Python's collector went through them again and again)
        self.first_taken: dict[tuple[str, int], int] = {}
        self.held: set[tuple[str, int]] = set()

    async def run(self, given: Sequence[Any], batches: int) -> None:
        try:
            await self._fold(given, batches)
        except BaseException:
            self._undo_holds()
            rewind_what_the_turn_took(self.consumer, self.first_taken, given)
            raise

    async def _fold(self, given: Sequence[Any], batches: int) -> None:
        batch = self._read([*given, *await self._latecomers(len(given))])
        for _ in range(batches - 1):
            applying = asyncio.ensure_future(self.runner.apply(batch))
            try:
                following, taken = await self._read_while(applying)
            finally:
                await _settled(applying)
            if following is None:
                return
            later = await self._latecomers(taken)
            batch = following.joined(self._read(later)) if later else following
        await self.runner.apply(batch)

    def _read(self, records: Sequence[Any]) -> ReadBatch:
        """Decode at once (no batch is in the database); hold at once what is too new."""
        return self._holding(self.runner.read(self._not_held(records)))

    async def _read_beside(self, records: Sequence[Any]) -> ReadBatch:
        """Decode in slices, so that the batch in the database gets its answers meanwhile; hold what is too new."""
        return self._holding(await self.runner.read_in_slices(self._not_held(records), READ_SLICE))

    def _not_held(self, records: Sequence[Any]) -> Sequence[Any]:
        if not self.held:
            return records
        return [record for record in records if (record.topic, record.partition) not in self.held]

    def _holding(self, batch: ReadBatch) -> ReadBatch:
        for held in batch.result.held:
            self.held.add((held.topic, held.partition))
            _hold(self.consumer, held)
        return batch

    async def _latecomers(self, taken: int) -> list[Any]:
        return self._taking(await _latecomers(self.consumer, self.max_records - taken, self.latecomers_wait_ms))

    def _taking(self, fetched: dict[Any, Sequence[Any]]) -> list[Any]:
        """The records of a fetch in one list, the first offset of each partition's noted (a fetch hands over a
        partition's records in offset order)."""
        arrived: list[Any] = []
        for records in fetched.values():
            if records:
                first = records[0]
                where = (first.topic, first.partition)
                self.first_taken[where] = min(first.offset, self.first_taken.get(where, first.offset))
                arrived += records
        return arrived

    async def _read_while(self, applying: asyncio.Future[Any]) -> tuple[ReadBatch | None, int]:
        """The next batch, read while `applying` runs: the records each fetch brings, read as they come, until
        the batch is full or `applying` ends; and how many records were taken. None when nothing arrived.

        A fetch hands over what aiokafka holds, which may be the last few records of one partition: fetching
        again at once, rather than waiting for the applied batch with a nearly empty next one, keeps the records
        of the following fetches out of the serial step between two batches (taking the latecomers and reading
        them with nothing in the database), which was a third of a fold's time at full speed."""
        following: ReadBatch | None = None
        taken = 0
        while taken < self.max_records and not applying.done():
            arrived = await self._arrivals_while(applying, self.max_records - taken)
            if not arrived:
                break
            taken += len(arrived)
            read = await self._read_beside(arrived)
            following = read if following is None else following.joined(read)
        return following, taken

    async def _arrivals_while(self, applying: asyncio.Future[Any], room: int) -> list[Any]:
        """The records (up to `room`) a fetch brings while `applying` runs; none if it ends first (the fetch is
        then dropped: aiokafka hands records over only when a fetch returns, so none is lost)."""
        fetching = asyncio.ensure_future(self.consumer.getmany(timeout_ms=self.FETCH_WAIT_MS, max_records=room))
        try:
            await asyncio.wait((applying, fetching), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not fetching.done():
                fetching.cancel()
            await asyncio.gather(fetching, return_exceptions=True)
        if fetching.cancelled():
            return []
        return self._taking(fetching.result())

    def _undo_holds(self) -> None:
        """Resume the partitions held in this call: rewound before the held record, they are read again."""
        if self.held:
            self.consumer.resume(*(TopicPartition(topic, partition) for topic, partition in self.held))


async def _settled(applying: asyncio.Future[Any]) -> None:
    """Wait for a batch being applied; if the wait itself is cancelled, the batch is cancelled with it."""
    try:
        await asyncio.shield(applying)
    except asyncio.CancelledError:
        if not applying.done():
            applying.cancel()
            await asyncio.gather(applying, return_exceptions=True)
        raise


def _records_of(message: KafkaMessage) -> tuple[Any, ...]:
    records = message.raw_message
    return tuple(records) if isinstance(records, tuple | list) else (records,)


async def _latecomers(consumer: Any, room: int, wait_ms: int) -> dict[Any, Sequence[Any]]:
    """The records that reached the broker while the batch before was being applied, up to `room` of them.

    aiokafka keeps one fetch in flight per broker, and none while records it fetched wait to be taken. The fetch
    sent when the batch before was taken returned with the first record to arrive while that batch was applied;
    the records after it were not fetched, and would wait a whole batch more. Taking this batch sent the next
    fetch: it answers at once with those records, so a short wait takes them into this batch (at a hundred
    records a second and 25 ms a batch, a record's wait for its batch fell from 50 to 19 ms, median). With
    nothing more at the broker, the wait is all this costs."""
    if room <= 0 or wait_ms <= 0:
        return {}
    fetched: dict[Any, Sequence[Any]] = await consumer.getmany(timeout_ms=wait_ms, max_records=room)
    return fetched


def rewind_what_the_turn_took(consumer: Any, first_taken: dict[tuple[str, int], int], given: Sequence[Any]) -> None:
    """After a failed turn, rewind the partitions only the records taken beyond FastStream's batch came from (the
    latecomers, later batches) to the first offset taken from each (FastStream rewinds those of the records it
    gave), so none is committed past unapplied."""
    mine = {(record.topic, record.partition) for record in given}
    for (topic, partition), offset in first_taken.items():
        if (topic, partition) not in mine:
            consumer.seek(TopicPartition(topic, partition), offset)


async def _batch_by_its_first_record(records: tuple[Any, ...], parse: Callable[..., Awaitable[Any]]) -> Any:
    """FastStream's message for a batch, built from its first record alone and carrying every record: its own
    parser decodes each record's headers (13 `ce_*` of them) into a dict that nothing here reads."""
    message = await parse(records[:1])
    message.raw_message = records
    return message


async def _records_as_they_are(message: KafkaMessage) -> None:
    """No body decoding: the runner reads the records themselves (`message.raw_message`), so FastStream's JSON
    decoding of every record of a batch (and its headers again) would be work thrown away."""
    return None


def _hold(consumer: Any, held: Held) -> None:
    """Rewind the partition to the held record and pause it; the commit that follows stops there."""
    partition = TopicPartition(held.topic, held.partition)
    consumer.seek(partition, held.offset)
    consumer.pause(partition)
    log.error("consumer paused %s[%s] at offset %s: %s", held.topic, held.partition, held.offset, held.reason)
