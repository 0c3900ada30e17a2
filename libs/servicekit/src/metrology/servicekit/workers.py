"""The background half of a service: its outbox relay and its Kafka consumers (replicas, sagas, projectors).

A static consumer member (a `KAFKA_GROUP_INSTANCE_ID`) on PostgreSQL consumes only while it holds the lease of its
instance id (`leases.CONSUMER_LOCK_CLASS`): a second process given the same id waits as a hot standby and, when
the first dies, joins under the same id at once. The broker hands a returning static member its partitions without
a rebalance, so the standby carries on where the dead process stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from faststream.kafka import KafkaBroker
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from metrology.eventkit.consumers import BrokerDeadLetterSink, new_broker, subscribe_projection
from metrology.eventkit.leases import CONSUMER_LOCK_CLASS, queue_for_lock, still_connected, try_lock, wait_or_stop
from metrology.eventkit.projector import ProjectorRunner
from metrology.eventkit.relay import KafkaEventPublisher, OutboxRelay
from metrology.eventkit.topics import ensure_topics
from metrology.servicekit.runtime import ServiceRuntime

log = logging.getLogger(__name__)

LEASE_POLL_SECONDS = 0.5  # how often an active consumer checks that it still holds its lease


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
        instance = self.runtime.settings.group_instance_id()
        if instance is None or self.runtime.engine.dialect.name != "postgresql":
            await self._consume_until(stop, lease=None)
            return
        lease = ConsumerLease(self.runtime.engine, instance)
        while not stop.is_set():
            try:
                self.runtime.consumer_role = "standby"
                if await lease.acquire(stop):
                    await self._consume_until(stop, lease)
            except Exception:
                log.exception("consumers %s lost their lease connection; trying again", instance)
                await wait_or_stop(stop, LEASE_POLL_SECONDS)
            finally:
                await lease.release()

    async def _consume_until(self, stop: asyncio.Event, lease: ConsumerLease | None) -> None:
        """Consume until `stop`, or until another process holds the lease."""
        broker = self.build_broker()
        await _retry_until_started(broker.start, stop, "consumers")
        if lease is not None:
            log.info("consumers %s are active", lease.name)
            self.runtime.consumer_role = "active"
        try:
            while not stop.is_set():
                await wait_or_stop(stop, LEASE_POLL_SECONDS)
                if lease is not None and not await lease.kept():
                    log.warning("consumers %s: another process holds the lease; standing by", lease.name)
                    return
        finally:
            await broker.stop()

    def build_broker(self) -> KafkaBroker:
        runtime = self.runtime
        broker = new_broker(runtime.settings.kafka(), client_id=f"metrology-{runtime.name}")
        runtime.runners.clear()  # a process that lost and took back its lease builds its consumers anew
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


class ConsumerLease:
    """The lease of one group instance id: a session advisory lock on a connection of its own."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.connection: AsyncConnection | None = None

    async def acquire(self, stop: asyncio.Event) -> bool:
        """Wait as a standby until the lease is free (or `stop`)."""
        self.connection = await self.engine.connect()
        return await queue_for_lock(self.connection, CONSUMER_LOCK_CLASS, self.name, stop)

    async def kept(self) -> bool:
        """Still held. After a lost connection (a database restart) the lease is taken again when it is free;
        while the database is away nobody can take it, so the consumers go on."""
        try:
            assert self.connection is not None
            await still_connected(self.connection)
            return True
        except Exception:
            await self.release()
        try:
            self.connection = await self.engine.connect()
            return await try_lock(self.connection, CONSUMER_LOCK_CLASS, self.name)
        except Exception:
            await self.release()
            return True

    async def release(self) -> None:
        """Close the connection (never pooled: the session lock goes with it)."""
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.invalidate()
            with contextlib.suppress(Exception):
                await connection.close()
