"""The background half of a service: its outbox relay and its Kafka consumers (replicas, sagas, projectors)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from faststream.kafka import KafkaBroker

from metrology.eventkit.consumers import BrokerDeadLetterSink, new_broker, subscribe_projection
from metrology.eventkit.projector import ProjectorRunner
from metrology.eventkit.relay import KafkaEventPublisher, OutboxRelay
from metrology.eventkit.topics import ensure_topics
from metrology.servicekit.runtime import ServiceRuntime

log = logging.getLogger(__name__)


class Workers:
    def __init__(self, runtime: ServiceRuntime, *, relay: bool = True, consumers: bool = True) -> None:
        self.runtime = runtime
        self.with_relay = relay and runtime.publishes
        self.with_consumers = consumers and bool(runtime.subscriptions or runtime.background)
        self.broker: KafkaBroker | None = None

    async def run(self, stop: asyncio.Event) -> None:
        await _retry_until_started(self._provision_topics, stop, "topic provisioning")
        tasks = []
        if self.with_relay:
            tasks.append(asyncio.create_task(self._relay(stop)))
        if self.with_consumers and self.runtime.subscriptions:
            tasks.append(asyncio.create_task(self._consume(stop)))
        if self.with_consumers:  # service-specific consumers that are not projections (run with `consume`)
            tasks += [asyncio.create_task(task(stop)) for task in self.runtime.background]
        await asyncio.gather(*tasks)

    async def _provision_topics(self) -> None:
        await asyncio.to_thread(ensure_topics, self.runtime.settings.kafka(), self.runtime.topic_specs())

    async def _relay(self, stop: asyncio.Event) -> None:
        publisher = KafkaEventPublisher(self.runtime.settings.kafka())
        await _retry_until_started(publisher.start, stop, "relay producer")
        relay = OutboxRelay(
            self.runtime.engine, self.runtime.store, publisher, self.runtime.topic, signal=self.runtime.signal
        )
        self.runtime.relays.append(relay)
        try:
            await relay.run(stop)
        finally:
            await publisher.stop()

    async def _consume(self, stop: asyncio.Event) -> None:
        broker = self.build_broker()
        await _retry_until_started(broker.start, stop, "consumers")
        try:
            await stop.wait()
        finally:
            await broker.stop()

    def build_broker(self) -> KafkaBroker:
        runtime = self.runtime
        broker = new_broker(runtime.settings.kafka(), client_id=f"metrology-{runtime.name}")
        sink = BrokerDeadLetterSink(broker, runtime.dead_letter_topic)
        for subscription in runtime.subscriptions:
            runner = ProjectorRunner(runtime.sessions, subscription.projection, sink)
            runtime.runners.append(runner)
            subscribe_projection(
                broker,
                runner,
                subscription.topics,
                subscription.group_id,
                group_instance_id=runtime.settings.group_instance_id(),
            )
        self.broker = broker
        return broker


async def _retry_until_started(start: Callable[[], Awaitable[object]], stop: asyncio.Event, what: str) -> None:
    delay = 0.5
    while not stop.is_set():
        try:
            await start()
            return
        except Exception as error:
            log.warning("%s could not start (%s); retrying in %.1fs", what, error, delay)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await stop.wait()
            delay = min(delay * 2, 10)
