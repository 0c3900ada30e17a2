"""How a replay makes its batches: each up to the batch size, filled from the fetches that return while the batch
before is in the database, every record applied once and each partition's in order, up to the partitions' ends."""

import asyncio
from dataclasses import dataclass

from aiokafka import TopicPartition

from metrology.eventkit.projector import BatchResult, ReadBatch, _Readable
from metrology.eventkit.replay import _drain

TP0, TP1 = TopicPartition("t", 0), TopicPartition("t", 1)


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int


class ScriptedConsumer:
    """Each fetch brings the next round: what aiokafka would hand over, a few records of a partition at a time."""

    def __init__(self, rounds: list[dict[TopicPartition, list[Record]]]) -> None:
        self.rounds = list(rounds)
        self.asked: list[int] = []

    async def position(self, partition: TopicPartition) -> int:
        return 0

    async def getmany(self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int = 0) -> dict:
        self.asked.append(max_records)
        await asyncio.sleep(0)
        if not self.rounds:
            return {}
        (partition, held), *others = self.rounds.pop(0).items()
        assert not others, "one partition a round"
        if len(held) > max_records:  # no more than asked for: the rest stays for the next fetch
            self.rounds.insert(0, {partition: held[max_records:]})
        return {partition: held[:max_records]}


class SlowRunner:
    """Each batch takes a while in its database."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.applied: list[list[tuple[int, int]]] = []

    async def read_in_slices(self, records, size) -> ReadBatch:
        return ReadBatch([_Readable(record, None, None) for record in records], BatchResult())

    async def apply(self, batch: ReadBatch) -> BatchResult:
        await asyncio.sleep(self.seconds)
        self.applied.append([(item.record.partition, item.record.offset) for item in batch.readable])
        return batch.result


def records(partition: int, *offsets: int) -> list[Record]:
    return [Record("t", partition, offset) for offset in offsets]


async def test_fetches_returning_while_a_batch_is_applied_fill_the_next_batch_up_to_its_size():
    consumer = ScriptedConsumer(
        [
            {TP0: records(0, 0, 1)},
            {TP0: records(0, 2)},  # a partition's last few records held
            {TP1: records(1, 0, 1)},
            {TP1: records(1, 2, 3)},
            {TP0: records(0, 3, 4)},
        ]
    )
    runner = SlowRunner(seconds=0.05)

    done = await _drain(consumer, runner, {TP0: 5, TP1: 4}, batch_size=4, report=None)

    assert done == 9
    assert runner.applied == [
        [(0, 0), (0, 1)],  # the first batch: nothing in the database yet to wait for
        [(0, 2), (1, 0), (1, 1), (1, 2)],  # three fetches while the first was applied, the last cut to the room left
        [(1, 3), (0, 3), (0, 4)],  # up to each partition's end
    ]
    assert consumer.asked == [4, 4, 3, 1, 4, 3], "each fetch asks for the room left in the batch, and no more"


async def test_a_fetch_is_not_repeated_once_the_batch_before_has_committed():
    consumer = ScriptedConsumer([{TP0: records(0, 0, 1)}, {TP0: records(0, 2)}, {TP0: records(0, 3)}])
    runner = SlowRunner(seconds=0)

    await _drain(consumer, runner, {TP0: 4}, batch_size=100, report=None)

    assert runner.applied == [[(0, 0), (0, 1)], [(0, 2)], [(0, 3)]]
