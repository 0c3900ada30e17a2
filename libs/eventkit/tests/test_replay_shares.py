"""How a replay's partitions are shared among its lanes."""

from aiokafka import TopicPartition

from metrology.eventkit.replay import share_partitions


def tp(topic: str, partition: int) -> TopicPartition:
    return TopicPartition(topic, partition)


def test_every_partition_goes_to_exactly_one_share_with_its_end():
    spans = {tp("a", 0): (0, 10), tp("a", 1): (5, 9), tp("b", 0): (0, 0), tp("b", 1): (2, 40)}

    shares = share_partitions(spans, 2)

    merged = {partition: end for share in shares for partition, end in share.items()}
    assert merged == {partition: end for partition, (_, end) in spans.items()}
    assert sum(len(share) for share in shares) == len(spans)


def test_shares_are_balanced_by_records_largest_partition_first():
    spans = {tp("v", 0): (0, 600), tp("v", 1): (0, 500), tp("t", 0): (0, 300), tp("t", 1): (0, 250)}
    spans[tp("r", 0)] = (0, 50)

    shares = share_partitions(spans, 2)

    loads = sorted(sum(spans[p][1] - spans[p][0] for p in share) for share in shares)
    assert loads == [850, 850]


def test_more_lanes_than_partitions_leaves_some_lanes_empty():
    shares = share_partitions({tp("a", 0): (0, 5)}, 3)

    assert [len(share) for share in shares] == [1, 0, 0]
