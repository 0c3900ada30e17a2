"""Deliveries from real Kafka topics to a receiver on loopback: once, in per-stream order, through outages,
dead-lettered when hopeless, independent per subscription, resumed after a restart."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from .conftest import COMPLETED, SCHEDULED, Bridge, Receiver, eventually

pytestmark = [pytest.mark.integration]


def versions_by_stream(receiver: Receiver) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = defaultdict(list)
    for delivery in receiver.accepted:
        seen[delivery.event["streamid"]].append(int(delivery.event["streamversion"]))
    return dict(seen)


async def produce_interleaved(bridge: Bridge, streams: list[str], per_stream: int) -> list[str]:
    ids = []
    for _ in range(per_stream):
        for stream in streams:
            ids.append(await bridge.producer.send(stream))
    return ids


async def test_events_are_delivered_once_in_stream_order_signed_and_only_those_chosen(bridge: Bridge, receivers):
    receiver = receivers()
    subscription_id = await bridge.subscribe(receiver)
    await bridge.start_worker()
    streams = [f"course-{n}" for n in range(6)]
    wanted = await produce_interleaved(bridge, streams, per_stream=8)
    await bridge.producer.send("course-x", type_=SCHEDULED)  # a type not chosen
    await bridge.producer.send("course-y", tenant="86")  # another province's event
    await bridge.producer.send(
        "enterprise-1", type_="vn.metrology.registry.enterprise-registered.v1", service="registry"
    )

    await eventually(lambda: len(receiver.accepted) >= len(wanted), what="every delivery")
    await asyncio.sleep(1)  # anything extra would have arrived by now
    assert sorted(receiver.accepted_ids()) == sorted(wanted)  # each once, nothing else
    assert versions_by_stream(receiver) == {stream: list(range(1, 9)) for stream in streams}
    assert receiver.bad_signatures == 0
    assert {d.content_type for d in receiver.accepted} == {"application/cloudevents+json"}
    assert all(d.message_id == d.event["id"] for d in receiver.accepted)
    found = await bridge.subscription(subscription_id)
    assert found["delivered"] == len(wanted)
    assert sum(o["next_offset"] for o in found["offsets"] if ".training." in o["topic"]) == len(wanted) + 2


async def test_a_receiver_refusing_then_failing_then_back_gets_everything_in_order(bridge: Bridge, receivers):
    receiver = receivers(up=False)  # connections refused
    await bridge.subscribe(receiver)
    await bridge.start_worker()
    streams = ["course-a", "course-b", "course-c"]
    wanted = await produce_interleaved(bridge, streams, per_stream=6)
    await asyncio.sleep(1.5)
    receiver.answer = lambda event: 500
    receiver.up()
    await eventually(lambda: len(receiver.attempts) >= 3, what="attempts answered 500")
    await asyncio.sleep(1)
    assert receiver.accepted == []
    receiver.answer = lambda event: 200

    await eventually(lambda: len(receiver.accepted) >= len(wanted), what="deliveries after the outage")
    await asyncio.sleep(0.5)
    assert sorted(receiver.accepted_ids()) == sorted(wanted)
    assert versions_by_stream(receiver) == {stream: list(range(1, 7)) for stream in streams}
    failed_ids = {d.event["id"] for d in receiver.attempts if d.status == 500}
    assert failed_ids and failed_ids <= set(wanted)


async def test_a_hopeless_event_is_dead_lettered_after_the_bounded_attempts_and_can_be_redelivered(
    bridge: Bridge, receivers
):
    bridge.settings = bridge.settings.model_copy(update={"retry_max_attempts": 3})
    receiver = receivers()
    subscription_id = await bridge.subscribe(receiver)
    await bridge.start_worker()
    receiver.answer = lambda event: 500 if int(event["streamversion"]) == 2 else 200
    ids = [await bridge.producer.send("course-1") for _ in range(5)]
    poison = ids[1]

    await eventually(lambda: len(receiver.accepted) >= 4, what="the rest of the stream")
    assert receiver.accepted_ids() == [ids[0], *ids[2:]]
    assert [d.status for d in receiver.attempts if d.event["id"] == poison] == [500, 500, 500]
    letters = await bridge.dead_letters(subscription_id)
    assert [(d["event_id"], d["attempts"], d["last_status"], d["state"]) for d in letters] == [(poison, 3, 500, "dead")]
    assert letters[0]["event"]["id"] == poison and letters[0]["stream_id"] == "course-1"

    receiver.answer = lambda event: 200
    response = await bridge.http.post(f"/subscriptions/{subscription_id}/redeliver", headers=bridge.token())
    assert (response.status_code, response.json()) == (202, {"queued": 1})
    await eventually(lambda: poison in receiver.accepted_ids(), what="the redelivery")

    async def settled() -> bool:
        return [d["state"] for d in await bridge.dead_letters(subscription_id)] == ["redelivered"]

    await eventually(settled, what="the dead letter settled")


async def test_two_subscriptions_progress_independently(bridge: Bridge, receivers):
    slow, healthy = receivers(up=False), receivers()
    slow_id = await bridge.subscribe(slow)
    healthy_id = await bridge.subscribe(healthy)
    await bridge.start_worker()
    wanted = await produce_interleaved(bridge, ["course-1", "course-2"], per_stream=5)

    await eventually(lambda: len(healthy.accepted) >= len(wanted), what="the healthy receiver's deliveries")
    assert slow.accepted == []

    async def healthy_counted() -> bool:  # the offset and counter are committed just after the receiver's 200
        return (await bridge.subscription(healthy_id))["delivered"] == len(wanted)

    await eventually(healthy_counted, what="the healthy subscription's progress")
    assert (await bridge.subscription(slow_id))["delivered"] == 0

    slow.up()
    await eventually(lambda: len(slow.accepted) >= len(wanted), what="the slow receiver catching up")
    assert sorted(slow.accepted_ids()) == sorted(wanted)
    assert versions_by_stream(slow) == {"course-1": [1, 2, 3, 4, 5], "course-2": [1, 2, 3, 4, 5]}


async def test_a_restarted_worker_resumes_from_committed_offsets_without_redelivering(bridge: Bridge, receivers):
    receiver = receivers()
    await bridge.subscribe(receiver)
    await bridge.start_worker()
    first = await produce_interleaved(bridge, ["course-1", "course-2"], per_stream=4)
    await eventually(lambda: len(receiver.accepted) >= len(first), what="the first deliveries")
    await bridge.stop_worker()

    second = await produce_interleaved(bridge, ["course-1", "course-2"], per_stream=4)
    await asyncio.sleep(0.5)
    assert len(receiver.accepted) == len(first)
    await bridge.start_worker()
    await eventually(lambda: len(receiver.accepted) >= len(first) + len(second), what="the deliveries after restart")
    await asyncio.sleep(1)
    assert sorted(receiver.accepted_ids()) == sorted(first + second)  # nothing acknowledged was sent again
    assert versions_by_stream(receiver) == {"course-1": list(range(1, 9)), "course-2": list(range(1, 9))}


async def test_410_gone_pauses_the_subscription_and_resuming_delivers_from_there(bridge: Bridge, receivers):
    receiver = receivers()
    receiver.answer = lambda event: 410
    subscription_id = await bridge.subscribe(receiver)
    await bridge.start_worker()
    ids = [await bridge.producer.send("course-1") for _ in range(3)]

    async def paused() -> bool:
        found = await bridge.subscription(subscription_id)
        return (found["status"], found["pause_reason"]) == ("paused", "receiver-gone")

    await eventually(paused, what="the pause on 410")
    assert len(receiver.attempts) == 1
    receiver.answer = lambda event: 200
    response = await bridge.http.post(f"/subscriptions/{subscription_id}/resume", headers=bridge.token())
    assert response.status_code == 200, response.text
    await eventually(lambda: receiver.accepted_ids() == ids, what="the deliveries after resuming")


async def test_a_subscription_from_the_earliest_offset_gets_events_published_before_it(bridge: Bridge, receivers):
    earlier = [await bridge.producer.send("course-1") for _ in range(3)]
    late, everything = receivers(), receivers()
    await bridge.subscribe(late)
    await bridge.subscribe(everything, start_from="earliest")
    await bridge.start_worker()
    later = [await bridge.producer.send("course-1") for _ in range(2)]
    await eventually(lambda: len(everything.accepted) >= 5, what="the replay from the beginning")
    await eventually(lambda: len(late.accepted) >= 2, what="the deliveries since creation")
    await asyncio.sleep(0.5)
    assert everything.accepted_ids() == earlier + later
    assert late.accepted_ids() == later
    assert COMPLETED in {d.event["type"] for d in late.accepted}
