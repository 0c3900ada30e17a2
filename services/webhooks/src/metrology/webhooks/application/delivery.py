"""Delivering one subscription's events: in order per topic partition, retried with backoff, then dead-lettered.

A lane is one subscription reading one topic partition. It hands its records to the receiver one at a time; a
record that keeps failing holds back only the records after it in the same lane, until the retry policy gives up
and the record goes to the subscription's dead-letter list. The lane's next offset is committed to the database
after each record it finishes, so a restart resumes there (at least once: a crash between the receiver's 2xx and
the commit sends that one record again, with the same `webhook-id`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from metrology.eventkit.envelope import Envelope
from metrology.webhooks.domain.retries import Outcome, RetryPolicy, outcome_of
from metrology.webhooks.domain.signing import signed_headers

log = logging.getLogger(__name__)

CLOUDEVENTS_JSON = "application/cloudevents+json"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the receiver said: an HTTP status, or none with the reason (refused, timed out...)."""

    status: int | None
    error: str | None = None


class Sender(Protocol):
    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> Answer: ...


@dataclass(frozen=True, slots=True)
class Target:
    """What a lane needs of its subscription."""

    subscription_id: str
    tenant: str
    url: str
    event_types: frozenset[str]

    def wants(self, envelope: Envelope) -> bool:
        return envelope.tenant == self.tenant and envelope.type in self.event_types


@dataclass(frozen=True, slots=True)
class Record:
    """A Kafka record, read: where it sits and the event it carries (None when it could not be read)."""

    topic: str
    partition: int
    offset: int
    envelope: Envelope | None


@dataclass(frozen=True, slots=True)
class Failure:
    attempts: int
    status: int | None
    error: str | None


@dataclass(frozen=True, slots=True)
class QueuedLetter:
    dead_letter_id: str
    event_id: str
    body: bytes


class DeliveryLog(Protocol):
    """Where a subscription's progress and dead letters are kept (its database)."""

    async def advance(self, subscription_id: str, topic: str, partition: int, next_offset: int, delivered: int) -> None:
        """Record the lane's next offset (and how many records were delivered since the last call)."""

    async def dead_letter(self, subscription_id: str, record: Record, body: bytes, failure: Failure) -> None:
        """Add the record to the dead-letter list and move the lane past it, in one transaction."""

    async def secrets(self, subscription_id: str) -> list[str]:
        """The secrets to sign with now, newest first."""

    async def queued(self, subscription_id: str) -> list[QueuedLetter]:
        """Dead letters an admin asked to deliver again, oldest first."""

    async def settle(self, dead_letter_id: str, failure: Failure | None) -> None:
        """A redelivery's end: delivered (no failure), or back on the dead-letter list."""


class LaneEnd(StrEnum):
    FINISHED = "finished"  # every record of the batch is done (delivered, skipped or dead-lettered)
    GONE = "gone"  # the receiver answered 410: the subscription is to be paused
    STOPPED = "stopped"  # asked to stop during a delivery; the record will be sent again


Clock = Callable[[], float]
Sleeper = Callable[[float, asyncio.Event], Awaitable[bool]]


async def wait_or_stop(seconds: float, stop: asyncio.Event) -> bool:
    """Wait `seconds` unless `stop` is set first; True when stopped."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()
    return stop.is_set()


@dataclass(frozen=True, slots=True)
class Settled:
    """How a delivery with all its retries ended: delivered, gone (410), stopped, or given up (`failure`)."""

    outcome: Outcome | None  # None: stopped while waiting to retry
    failure: Failure | None = None


@dataclass
class Deliverer:
    log: DeliveryLog
    sender: Sender
    policy: RetryPolicy
    clock: Clock = time.time
    sleep: Sleeper = wait_or_stop

    async def deliver_lane(self, target: Target, records: Sequence[Record], stop: asyncio.Event) -> LaneEnd:
        """Deliver the records of one lane in order; the lane's offset moves after each one finished."""
        skipped_to: int | None = None
        for record in records:
            if record.envelope is None or not target.wants(record.envelope):
                skipped_to = record.offset + 1
                continue
            end = await self._deliver(target, record, record.envelope, stop)
            if end is not LaneEnd.FINISHED:
                if skipped_to is not None:
                    await self.log.advance(target.subscription_id, record.topic, record.partition, record.offset, 0)
                return end
            skipped_to = None
        if skipped_to is not None:
            await self.log.advance(target.subscription_id, records[-1].topic, records[-1].partition, skipped_to, 0)
        return LaneEnd.FINISHED

    async def redeliver(self, target: Target, letters: Sequence[QueuedLetter], stop: asyncio.Event) -> LaneEnd:
        """Send dead letters again (each with the full retry policy): outside the lanes' order, by nature."""
        for letter in letters:
            settled = await self._until_settled(target, letter.event_id, letter.body, stop)
            if settled.outcome is Outcome.GONE:
                return LaneEnd.GONE
            if settled.outcome is None:
                return LaneEnd.STOPPED
            await self.log.settle(letter.dead_letter_id, settled.failure)
        return LaneEnd.FINISHED

    async def _deliver(self, target: Target, record: Record, envelope: Envelope, stop: asyncio.Event) -> LaneEnd:
        body = envelope.to_json()
        settled = await self._until_settled(target, envelope.id, body, stop)
        if settled.outcome is Outcome.GONE:
            return LaneEnd.GONE
        if settled.outcome is None:
            return LaneEnd.STOPPED
        if settled.failure is None:
            await self.log.advance(target.subscription_id, record.topic, record.partition, record.offset + 1, 1)
        else:
            log.warning(
                "subscription %s: event %s dead-lettered after %d attempts (%s)",
                target.subscription_id,
                envelope.id,
                settled.failure.attempts,
                settled.failure.error or settled.failure.status,
            )
            await self.log.dead_letter(target.subscription_id, record, body, settled.failure)
        return LaneEnd.FINISHED

    async def _until_settled(self, target: Target, message_id: str, body: bytes, stop: asyncio.Event) -> Settled:
        attempt = 0
        while True:
            attempt += 1
            answer = await self.send(target, message_id, body)
            outcome = outcome_of(answer.status)
            if outcome is not Outcome.RETRY:
                return Settled(outcome)
            if self.policy.gives_up_after(attempt):
                return Settled(Outcome.RETRY, Failure(attempt, answer.status, answer.error))
            if await self.sleep(self.policy.delay(attempt), stop):
                return Settled(None)

    async def send(self, target: Target, message_id: str, body: bytes) -> Answer:
        """One signed POST of `body` (a structured CloudEvent) to the target."""
        secrets = await self.log.secrets(target.subscription_id)
        headers = signed_headers(secrets, message_id, int(self.clock()), body).as_dict()
        headers["content-type"] = CLOUDEVENTS_JSON
        return await self.sender.post(target.url, body, headers)
