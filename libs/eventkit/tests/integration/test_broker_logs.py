"""A broker's service messages go through the process's own log handlers, with the topic and group as fields."""

from __future__ import annotations

import asyncio
import logging

import pytest

from metrology.eventkit.consumers import BROKER_LOGGER, new_broker
from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.testkit import infra

pytestmark = pytest.mark.integration


class Assignments(logging.Handler):
    """A handler on the root logger: what reaches it is what the process's own handlers would write."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self.seen = asyncio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if "assigned to partitions" in record.getMessage():
            self.records.append(record)
            self.seen.set()


async def test_a_subscriber_given_its_partitions_is_logged_through_the_root_handlers_with_its_topic(kafka, caplog):
    topic = infra.unique_topic("logs")
    ensure_topics(kafka, [TopicSpec(topic, 1, 1)])
    broker = new_broker(kafka, client_id="metrology-test")

    @broker.subscriber(topic, group_id=f"{topic}.group", auto_offset_reset="earliest")
    async def handle(body: bytes) -> None:
        return None

    caplog.set_level(logging.INFO)
    assignments = Assignments()
    logging.getLogger().addHandler(assignments)
    try:
        await broker.start()
        try:
            await asyncio.wait_for(assignments.seen.wait(), timeout=30)
        finally:
            await broker.stop()
    finally:
        logging.getLogger().removeHandler(assignments)

    [assigned] = assignments.records
    assert (assigned.name, assigned.levelno) == (BROKER_LOGGER, logging.INFO)
    assert (assigned.topic, assigned.group_id) == (topic, f"{topic}.group")  # type: ignore[attr-defined]
