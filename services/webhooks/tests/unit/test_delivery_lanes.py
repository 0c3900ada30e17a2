"""A lane delivers its records in order, skips what the subscription does not want, retries, dead-letters and
stops on 410, with the receiver and the database in memory."""

import asyncio
import json
from datetime import UTC, datetime

from metrology.eventkit.envelope import Envelope
from metrology.webhooks.application.delivery import (
    Answer,
    Deliverer,
    Failure,
    LaneEnd,
    QueuedLetter,
    Record,
    Target,
)
from metrology.webhooks.domain.retries import RetryPolicy

COMPLETED = "vn.metrology.training.trainee-completed.v1"
TARGET = Target("s-1", "83", "http://receiver/in", frozenset({COMPLETED}))


def record(offset: int, type_: str = COMPLETED, tenant: str = "83") -> Record:
    envelope = Envelope(
        id=f"evt-{offset}",
        type=type_,
        source="/metrology/training",
        time=datetime(2025, 6, 1, tzinfo=UTC),
        stream_id="course-1",
        stream_version=offset + 1,
        tenant=tenant,
        correlation_id="c",
        data={"occurred_on": "2025-06-01", "n": offset},
    )
    return Record("metrology.training.v1", 0, offset, envelope)


class InMemoryDeliveryLog:
    def __init__(self) -> None:
        self.offsets: dict[tuple[str, int], int] = {}
        self.delivered = 0
        self.dead: list[tuple[int, Failure]] = []
        self.settled: dict[str, Failure | None] = {}

    async def advance(self, subscription_id, topic, partition, next_offset, delivered):
        self.offsets[(topic, partition)] = next_offset
        self.delivered += delivered

    async def dead_letter(self, subscription_id, record, body, failure):
        self.dead.append((record.offset, failure))
        self.offsets[(record.topic, record.partition)] = record.offset + 1

    async def secrets(self, subscription_id):
        return ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]

    async def queued(self, subscription_id):
        return []

    async def settle(self, dead_letter_id, failure):
        self.settled[dead_letter_id] = failure


class ScriptedReceiver:
    """Answers each POST with the next scripted status per event id (200 once the script runs out)."""

    def __init__(self, script: dict[str, list[int | None]] | None = None) -> None:
        self.script = script or {}
        self.received: list[tuple[str, dict]] = []

    async def post(self, url, body, headers):
        event = json.loads(body)
        self.received.append((headers["webhook-id"], event))
        answers = self.script.get(event["id"], [])
        status = answers.pop(0) if answers else 200
        return Answer(status, None if status else "connection refused")


async def no_wait(seconds: float, stop: asyncio.Event) -> bool:
    return stop.is_set()


def deliverer(receiver: ScriptedReceiver, log: InMemoryDeliveryLog, attempts: int = 3) -> Deliverer:
    return Deliverer(log, receiver, RetryPolicy(max_attempts=attempts), sleep=no_wait)


async def test_records_are_delivered_in_order_as_structured_cloudevents_and_the_offset_follows():
    log, receiver = InMemoryDeliveryLog(), ScriptedReceiver()
    end = await deliverer(receiver, log).deliver_lane(TARGET, [record(0), record(1), record(2)], asyncio.Event())
    assert end is LaneEnd.FINISHED
    assert [message_id for message_id, _ in receiver.received] == ["evt-0", "evt-1", "evt-2"]
    assert receiver.received[0][1]["specversion"] == "1.0" and receiver.received[0][1]["data"]["n"] == 0
    assert log.offsets == {("metrology.training.v1", 0): 3} and log.delivered == 3


async def test_other_tenants_and_unchosen_types_are_skipped_but_passed_over():
    log, receiver = InMemoryDeliveryLog(), ScriptedReceiver()
    records = [record(0, tenant="86"), record(1, type_="vn.metrology.training.course-scheduled.v1"), record(2)]
    records.append(Record("metrology.training.v1", 0, 3, None))  # unreadable
    await deliverer(receiver, log).deliver_lane(TARGET, records, asyncio.Event())
    assert [message_id for message_id, _ in receiver.received] == ["evt-2"]
    assert log.offsets[("metrology.training.v1", 0)] == 4


async def test_a_failing_record_is_retried_with_the_same_id_and_holds_back_the_next_until_it_passes():
    log, receiver = InMemoryDeliveryLog(), ScriptedReceiver({"evt-0": [None, 500]})
    await deliverer(receiver, log).deliver_lane(TARGET, [record(0), record(1)], asyncio.Event())
    assert [message_id for message_id, _ in receiver.received] == ["evt-0", "evt-0", "evt-0", "evt-1"]
    assert log.dead == []


async def test_after_the_last_attempt_the_record_is_dead_lettered_and_the_rest_flows():
    log, receiver = InMemoryDeliveryLog(), ScriptedReceiver({"evt-1": [500, 500, 503]})
    await deliverer(receiver, log, attempts=3).deliver_lane(TARGET, [record(0), record(1), record(2)], asyncio.Event())
    assert log.dead == [(1, Failure(3, 503, None))]
    assert [message_id for message_id, _ in receiver.received][-1] == "evt-2"
    assert log.offsets[("metrology.training.v1", 0)] == 3 and log.delivered == 2


async def test_410_gone_ends_the_lane_without_passing_the_record():
    log, receiver = InMemoryDeliveryLog(), ScriptedReceiver({"evt-1": [410]})
    end = await deliverer(receiver, log).deliver_lane(TARGET, [record(0), record(1), record(2)], asyncio.Event())
    assert end is LaneEnd.GONE
    assert log.offsets[("metrology.training.v1", 0)] == 1


async def test_a_stop_while_waiting_to_retry_leaves_the_record_to_be_sent_again():
    log, receiver = InMemoryDeliveryLog(), ScriptedReceiver({"evt-0": [500]})
    stop = asyncio.Event()
    stop.set()
    end = await deliverer(receiver, log).deliver_lane(TARGET, [record(0)], stop)
    assert end is LaneEnd.STOPPED and log.offsets == {}


async def test_a_redelivered_dead_letter_is_settled_delivered_or_dead_again():
    log, receiver = InMemoryDeliveryLog(), ScriptedReceiver({"evt-9": [500, 500]})
    body = json.dumps({"id": "evt-9"}).encode()
    ok = QueuedLetter("dl-1", "evt-8", json.dumps({"id": "evt-8"}).encode())
    failing = QueuedLetter("dl-2", "evt-9", body)
    await deliverer(receiver, log, attempts=2).redeliver(TARGET, [ok, failing], asyncio.Event())
    assert log.settled == {"dl-1": None, "dl-2": Failure(2, 500, None)}
