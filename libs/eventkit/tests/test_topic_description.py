"""What a broker's metadata answer says a topic is made of: its partitions, none when the broker has no such topic,
and an error, never "empty", when the broker cannot tell yet."""

import pytest

from metrology.eventkit.topics import TopicNotReadyError, partitions_described

TOPIC = "metrology.registry.v1"


def answer(topic: str = TOPIC, error: int = 0, partitions: dict[int, int] | None = None) -> dict:
    """A topic's entry in a metadata response: its error code and each partition's (id → error code)."""
    partitions = {2: 0, 0: 0, 1: 0} if partitions is None else partitions
    return {
        "error_code": error,
        "topic": topic,
        "is_internal": False,
        "partitions": [{"error_code": code, "partition": p, "leader": 1} for p, code in partitions.items()],
    }


def test_a_described_topic_gives_its_partitions_in_order():
    assert partitions_described(TOPIC, [answer("other", partitions={0: 0}), answer()]) == [0, 1, 2]


def test_a_topic_the_broker_does_not_have_has_no_partitions():
    assert partitions_described(TOPIC, [answer(error=3, partitions={})]) == []


@pytest.mark.parametrize(
    ("described", "reason"),
    [
        ([answer(error=5, partitions={})], "topic metrology.registry.v1: LeaderNotAvailableError"),
        ([answer(partitions={0: 0, 1: 5, 2: 0})], r"partition metrology.registry.v1\[1\]: LeaderNotAvailableError"),
        ([answer(partitions={0: 0, 1: 0, 2: 9})], r"partition metrology.registry.v1\[2\]: .*ReplicaNotAvailable"),
        ([answer("other")], "does not mention topic metrology.registry.v1"),
    ],
    ids=["topic-leader-not-available", "partition-leader-not-available", "partition-replica-missing", "not-named"],
)
def test_an_answer_with_an_error_is_not_taken_for_an_empty_topic(described, reason):
    with pytest.raises(TopicNotReadyError, match=reason):
        partitions_described(TOPIC, described)
