"""The delivery worker: one reader per active subscription, started and stopped as subscriptions change.

Runs under `metrology-webhooks consume` (or `run`) as the service's background task.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import sqlalchemy as sa

from metrology.eventkit.envelope import EventContext
from metrology.eventkit.errors import ConflictError
from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.servicekit.runtime import ServiceRuntime
from metrology.webhooks.adapters.delivery_log import SqlAlchemyDeliveryLog
from metrology.webhooks.adapters.kafka_lanes import SubscriptionReader
from metrology.webhooks.adapters.sender import HttpxSender
from metrology.webhooks.adapters.tables import subscriptions
from metrology.webhooks.application import handlers
from metrology.webhooks.application.delivery import Deliverer, LaneEnd, Target, wait_or_stop
from metrology.webhooks.domain.catalogue import SOURCES
from metrology.webhooks.settings import WebhooksSettings

log = logging.getLogger(__name__)
ACTOR = "webhooks-delivery"


@dataclass
class _Running:
    task: asyncio.Task[None]
    stop: asyncio.Event


class DeliveryWorker:
    def __init__(self, runtime: ServiceRuntime, settings: WebhooksSettings) -> None:
        self.runtime = runtime
        self.settings = settings
        self.topics = [runtime.topic_of(service) for service in SOURCES]
        self.log = SqlAlchemyDeliveryLog(runtime.engine)
        self.running: dict[str, _Running] = {}

    async def run(self, stop: asyncio.Event) -> None:
        await self._provision_topics(stop)
        sender = HttpxSender(self.settings.delivery_timeout_seconds, self.settings.delivery_connect_timeout_seconds)
        deliverer = Deliverer(self.log, sender, self.settings.retry_policy())
        try:
            while not stop.is_set():
                try:
                    await self._reconcile(deliverer)
                except Exception:
                    log.exception("could not read the subscriptions; trying again")
                await wait_or_stop(self.settings.subscription_poll_seconds, stop)
        finally:
            for running in self.running.values():
                running.stop.set()
            await asyncio.gather(*(r.task for r in self.running.values()), return_exceptions=True)
            await sender.close()

    async def _provision_topics(self, stop: asyncio.Event) -> None:
        specs = [
            TopicSpec(t, self.settings.kafka_partitions, self.settings.kafka_replication_factor) for t in self.topics
        ]
        delay = 0.5
        while not stop.is_set():
            try:
                await asyncio.to_thread(ensure_topics, self.settings.kafka(), specs)
                return
            except Exception as error:
                log.warning("source topics could not be provisioned (%s); retrying in %.1fs", error, delay)
                await wait_or_stop(delay, stop)
                delay = min(delay * 2, 10)

    async def _reconcile(self, deliverer: Deliverer) -> None:
        """Start a reader for each active subscription without one; stop those of subscriptions no longer active."""
        async with self.runtime.engine.connect() as connection:
            rows = {
                row.subscription_id: row
                for row in await connection.execute(sa.select(subscriptions).where(subscriptions.c.status == "active"))
            }
        for subscription_id, running in list(self.running.items()):
            if subscription_id not in rows:
                running.stop.set()
            if running.task.done():
                del self.running[subscription_id]
        for subscription_id, row in rows.items():
            if subscription_id not in self.running:
                stop = asyncio.Event()
                task = asyncio.create_task(self._deliver(row, deliverer, stop))
                self.running[subscription_id] = _Running(task, stop)

    async def _deliver(self, row: sa.Row, deliverer: Deliverer, stop: asyncio.Event) -> None:
        target = Target(row.subscription_id, row.tenant, row.target_url, frozenset(row.event_types))
        reader = SubscriptionReader(
            self.settings.kafka(),
            self.topics,
            target,
            row.start_from,
            row.created_at,
            deliverer,
            self.log,
            batch_size=self.settings.delivery_batch_size,
        )
        try:
            end = await reader.run(stop)
        except Exception:
            log.exception("subscription %s: reader failed; it starts again", row.subscription_id)
            return
        if end is LaneEnd.GONE:
            log.warning("subscription %s: the receiver answered 410 Gone; pausing it", row.subscription_id)
            context = EventContext(tenant=row.tenant, actor=ACTOR)
            try:
                async with self.runtime.unit_of_work(context) as uow:
                    await handlers.pause_subscription(uow, row.subscription_id, "receiver-gone")
            except ConflictError:
                pass  # paused or deleted meanwhile
