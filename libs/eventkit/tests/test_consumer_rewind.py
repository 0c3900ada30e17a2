"""What a projection's consumer rewinds after a failed batch that took records arrived meanwhile: FastStream rewinds
the partitions of the records it gave; the consumer rewinds those only the latecomers and later batches came from,
and resumes the partitions it held in that turn."""

import asyncio
import gc
import weakref
from dataclasses import dataclass

import pytest
from aiokafka import TopicPartition

from metrology.eventkit.consumers import FoldInTurn, rewind_what_the_turn_took
from metrology.eventkit.projector import BatchResult, DeadLetter, Held, ReadBatch, _Readable


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int


class SeekingConsumer:
    def __init__(self) -> None:
        self.seeks: dict[TopicPartition, int] = {}

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks[partition] = offset


def test_the_partitions_only_latecomers_came_from_are_rewound_to_their_first_latecomer():
    consumer = SeekingConsumer()
    given = [Record("t", 0, 10), Record("t", 0, 11)]
    first_taken = {("t", 0): 12, ("t", 1): 5, ("u", 0): 3}
    rewind_what_the_turn_took(consumer, first_taken, given)
    assert consumer.seeks == {TopicPartition("t", 1): 5, TopicPartition("u", 0): 3}


def test_without_latecomers_nothing_more_is_rewound():
    consumer = SeekingConsumer()
    rewind_what_the_turn_took(consumer, {}, [Record("t", 0, 10)])
    assert consumer.seeks == {}


class ScriptedConsumer(SeekingConsumer):
    """A consumer whose fetches bring the given rounds of records, one round per fetch, then nothing."""

    def __init__(self, rounds: list[list[Record]]) -> None:
        super().__init__()
        self.rounds = list(rounds)
        self.paused: set[TopicPartition] = set()
        self.asked: list[int | None] = []  # the room each fetch was given

    async def getmany(self, timeout_ms: int = 0, max_records: int | None = None) -> dict:
        self.asked.append(max_records)
        if not self.rounds:
            await asyncio.sleep(timeout_ms / 1000)
            return {}
        records = self.rounds.pop(0)
        return {TopicPartition(records[0].topic, records[0].partition): records} if records else {}

    def pause(self, *partitions: TopicPartition) -> None:
        self.paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self.paused.difference_update(partitions)


class ScriptedRunner:
    """Reads a record at offset `newer_at` as too new for this reader; fails the batch holding `fails_at`."""

    def __init__(self, newer_at: int, fails_at: int) -> None:
        self.newer_at = newer_at
        self.fails_at = fails_at
        self.applied: list[list[int]] = []

    async def read_in_slices(self, records, size) -> ReadBatch:
        return self.read(records)

    def read(self, records) -> ReadBatch:
        result = BatchResult()
        readable = []
        for record in records:
            if record.offset == self.newer_at:
                result.held.append(Held(record.topic, record.partition, record.offset, "newer"))
            else:
                readable.append(_Readable(record, None, None))
        return ReadBatch(readable, result)

    async def apply(self, batch: ReadBatch) -> BatchResult:
        offsets = [item.record.offset for item in batch.readable]
        if self.fails_at in offsets:
            raise ConnectionResetError("the read model's database went away")
        self.applied.append(offsets)
        return batch.result


async def test_a_failed_turn_resumes_the_partitions_it_held_and_rewinds_those_its_later_batches_came_from():
    given = [Record("t", 0, 10), Record("t", 0, 11)]
    rounds = [[Record("t", 1, 0), Record("t", 1, 1)], [Record("t", 2, 4), Record("t", 2, 5)]]
    consumer = ScriptedConsumer(rounds)  # full batches: no room for latecomers
    runner = ScriptedRunner(newer_at=1, fails_at=4)  # partition 1 held at offset 1; the batch of partition 2 fails
    fold = FoldInTurn(consumer, runner, max_records=2, latecomers_wait_ms=1)
    with pytest.raises(ConnectionResetError):
        await fold.run(given, batches=10)
    assert runner.applied == [[10, 11], [0]], "the given batch, then partition 1 up to its held record"
    assert consumer.paused == set(), "the held partition is resumed: rewound, it is read again"
    assert consumer.seeks == {TopicPartition("t", 1): 0, TopicPartition("t", 2): 4}


class SlowRunner(ScriptedRunner):
    """Each batch takes a while in its database."""

    async def apply(self, batch: ReadBatch) -> BatchResult:
        await asyncio.sleep(0.05)
        return await super().apply(batch)


async def test_records_fetched_a_few_at_a_time_while_a_batch_is_applied_fill_the_next_batch():
    given = [Record("t", 0, 0)]
    rounds = [[Record("t", 0, 1)], [Record("t", 0, 2)], [Record("t", 0, 3)], [Record("t", 0, 4)]]
    consumer = ScriptedConsumer(rounds)
    runner = SlowRunner(newer_at=-1, fails_at=-1)
    fold = FoldInTurn(consumer, runner, max_records=3, latecomers_wait_ms=1)
    await fold.run(given, batches=10)
    assert runner.applied == [[0, 1], [2, 3, 4]], "each fetch during the first batch's apply joins the second"
    assert consumer.asked == [2, 3, 2, 1, 3], "each fetch asks for the room left in the batch, and no more"


class RememberingRunner(SlowRunner):
    """Notes, as each batch begins, which records of the batches applied before are still held by anything."""

    def __init__(self) -> None:
        super().__init__(newer_at=-1, fails_at=-1)
        self.applied_records: list[weakref.ref[Record]] = []
        self.still_held: list[list[int]] = []

    async def apply(self, batch: ReadBatch) -> BatchResult:
        gc.collect()
        self.still_held.append([ref().offset for ref in self.applied_records if ref() is not None])
        self.applied_records += [weakref.ref(item.record) for item in batch.readable]
        return await super().apply(batch)


async def test_a_turn_lets_go_of_the_records_it_took_once_their_batch_is_applied():
    given = [Record("t", 0, 0)]
    consumer = ScriptedConsumer([[Record("t", 0, offset)] for offset in range(1, 9)])
    runner = RememberingRunner()
    fold = FoldInTurn(consumer, runner, max_records=2, latecomers_wait_ms=1)
    await fold.run(given, batches=10)
    assert runner.applied == [[0, 1], [2, 3], [4, 5], [6, 7], [8]]
    assert runner.still_held == [[], [0], [0], [0], [0]], "only the batch FastStream gave (its message holds it)"
    assert fold.first_taken == {("t", 0): 1}, "where a failed turn would rewind to"


def test_a_batch_joined_with_its_latecomers_keeps_everything_reading_found_in_both():
    letter, late_letter = DeadLetter(Record("t", 0, 1), "unreadable"), DeadLetter(Record("t", 1, 7), "unreadable")
    first = BatchResult(applied=1, duplicates=2, ignored=3, retries=1, dead_letters=[letter])
    later = BatchResult(ignored=1, dead_letters=[late_letter], held=[Held("t", 2, 9, "newer")])
    joined = ReadBatch([], first).joined(ReadBatch([], later)).result
    assert joined == BatchResult(1, 2, 4, 1, [letter, late_letter], [Held("t", 2, 9, "newer")])
