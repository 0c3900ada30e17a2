"""What a projection's consumer rewinds after a failed batch that took records arrived meanwhile: FastStream rewinds
the partitions of the records it gave; the consumer rewinds those only the latecomers came from."""

from dataclasses import dataclass

from aiokafka import TopicPartition

from metrology.eventkit.consumers import rewind_latecomers


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
    late = [Record("t", 0, 12), Record("t", 1, 7), Record("t", 1, 5), Record("u", 0, 3)]
    rewind_latecomers(consumer, late, given)
    assert consumer.seeks == {TopicPartition("t", 1): 5, TopicPartition("u", 0): 3}


def test_without_latecomers_nothing_more_is_rewound():
    consumer = SeekingConsumer()
    rewind_latecomers(consumer, [], [Record("t", 0, 10)])
    assert consumer.seeks == {}
