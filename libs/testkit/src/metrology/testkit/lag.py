"""Consumer lag as Kafka's own admin API reports it: what tests wait on before asserting "counted once".

A read model that shows the expected number may still have redeliveries to come; one whose groups have
committed up to the end of every partition has seen everything that was on the topics.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

Group = tuple[str, Sequence[str]]  # (group id, topics)


def group_lag(bootstrap: str, groups: Iterable[Group]) -> dict[str, int]:
    """Records not yet committed by each group, over every partition of its topics."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","))
    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), enable_auto_commit=False)
    try:
        lag: dict[str, int] = {}
        for group, topics in groups:
            partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
            committed = admin.list_group_offsets({group: None}).get(group, {})
            ends = consumer.end_offsets(partitions)
            lag[group] = sum(max(ends[tp] - (committed[tp].offset if tp in committed else 0), 0) for tp in partitions)
        return lag
    finally:
        consumer.close()
        admin.close()


def wait_until_caught_up(bootstrap: str, groups: Sequence[Group], timeout: float = 60.0) -> None:
    """Wait until every group has committed up to the end of its topics (as they are when this is called)."""
    deadline = time.monotonic() + timeout
    lag = group_lag(bootstrap, groups)
    while any(lag.values()):
        if time.monotonic() > deadline:
            raise AssertionError(f"consumer groups still behind after {timeout}s: {lag}")
        time.sleep(0.2)
        lag = group_lag(bootstrap, groups)
