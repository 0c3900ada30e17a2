"""How a replay's lanes take its partitions: from one queue, the largest first, each partition once."""

import multiprocessing
import threading

from aiokafka import TopicPartition

from metrology.eventkit.replay import queued_partitions, take_next


def tp(topic: str, partition: int) -> TopicPartition:
    return TopicPartition(topic, partition)


def test_every_partition_holding_records_is_queued_once_with_its_end():
    spans = {tp("a", 0): (0, 10), tp("a", 1): (5, 9), tp("b", 0): (0, 0), tp("b", 1): (2, 40), tp("c", 0): (7, 7)}

    queued = queued_partitions(spans)

    assert sorted(queued) == sorted([(tp("a", 0), 10), (tp("a", 1), 9), (tp("b", 1), 40)])


def test_the_largest_partitions_are_queued_first():
    spans = {tp("t", 0): (0, 300), tp("r", 0): (0, 50), tp("v", 1): (100, 600), tp("v", 0): (0, 600)}

    queued = queued_partitions(spans)

    assert [partition for partition, _ in queued] == [tp("v", 0), tp("v", 1), tp("t", 0), tp("r", 0)]


def test_each_partition_is_taken_once_then_nothing_is_left():
    queued = [(tp("a", p), 10) for p in range(3)]
    taken = multiprocessing.get_context("spawn").Value("q", 0)

    handed = [take_next(queued, taken) for _ in range(5)]

    assert handed == [*queued, None, None]


def test_lanes_taking_at_the_same_time_never_take_the_same_partition():
    queued = [(tp("a", p), 1) for p in range(2000)]
    taken = multiprocessing.get_context("spawn").Value("q", 0)
    taken_by: list[list[tuple[TopicPartition, int]]] = [[] for _ in range(4)]

    def lane(mine: list[tuple[TopicPartition, int]]) -> None:
        while (next_one := take_next(queued, taken)) is not None:
            mine.append(next_one)

    threads = [threading.Thread(target=lane, args=(mine,)) for mine in taken_by]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    every = [partition for mine in taken_by for partition in mine]
    assert sorted(every) == sorted(queued)
    assert len(set(every)) == len(queued)


def test_a_lane_slowed_by_costly_records_takes_fewer_partitions_and_the_lanes_end_together():
    queued = queued_partitions({tp("a", p): (0, 100) for p in range(6)})
    taken = multiprocessing.get_context("spawn").Value("q", 0)
    seconds_per_record = {"slow": 3.0, "fast": 1.0}
    free_at = {"slow": 0.0, "fast": 0.0}
    took = {"slow": 0, "fast": 0}

    while (next_one := take_next(queued, taken)) is not None:
        lane = min(free_at, key=lambda name: free_at[name])  # the lane done first takes the next partition
        free_at[lane] += next_one[1] * seconds_per_record[lane]
        took[lane] += 1

    assert took == {"slow": 2, "fast": 4}
    assert free_at == {"slow": 600.0, "fast": 400.0}  # in shares of three each, the slow lane would end at 900
