"""What a service is made of, built once by its bootstrap: database, store, event types, topics, projections."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from metrology.eventkit.database import (
    DatabaseRefusedError,
    SessionFactory,
    create_engine,
    is_postgres,
    session_factory,
    wait_for_database,
)
from metrology.eventkit.envelope import EventContext
from metrology.eventkit.events import EventRegistry
from metrology.eventkit.histories import StreamHistories
from metrology.eventkit.projector import Projection, ProjectorRunner
from metrology.eventkit.relay import CommitSignal, OutboxRelay, PostgresCommitNotifier
from metrology.eventkit.store import EventStore
from metrology.eventkit.topics import TopicSpec, dead_letter_topic, event_topic
from metrology.eventkit.unit_of_work import KeptConnections, UnitOfWork, kept_within
from metrology.servicekit.schema_migrations import Migrations, service_migrations, upgrade
from metrology.servicekit.settings import ServiceSettings


@dataclass(frozen=True, slots=True)
class Subscription:
    """A projection (read model, local replica or saga) fed by `topics` as consumer group `group_id`."""

    projection: Projection
    topics: Sequence[str]
    group_id: str


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    engine: AsyncEngine
    sessions: SessionFactory
    registry: EventRegistry
    store: EventStore
    schema: list[MetaData]
    connections: KeptConnections  # of commands' units of work, kept between them
    signal: CommitSignal = field(default_factory=CommitSignal)
    histories: StreamHistories = field(default_factory=StreamHistories)  # streams commands read lately, decoded
    publishes: bool = True
    subscriptions: list[Subscription] = field(default_factory=list)
    # long-running tasks beside the consumers that are not projections; each returns once its event is set
    background: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = field(default_factory=list)
    routers: list[APIRouter] = field(default_factory=list)
    relays: list[OutboxRelay] = field(default_factory=list)  # started in this process (probes and metrics read them)
    runners: list[ProjectorRunner] = field(default_factory=list)
    consumer_role: str | None = None  # "active" or "standby" while a static member waits for its lease
    metric_sources: list[Callable[[Request], Awaitable[bytes]]] = field(default_factory=list)  # after the kit's
    title: str = ""
    description: str = ""

    @property
    def name(self) -> str:
        return self.settings.service_name

    @property
    def topic(self) -> str:
        return self.topic_of(self.name)

    @property
    def dead_letter_topic(self) -> str:
        return self.settings.kafka_topic_prefix + dead_letter_topic(self.name)

    def topic_of(self, service: str) -> str:
        """The event topic of `service` (this one or another), with this deployment's prefix."""
        return self.settings.kafka_topic_prefix + event_topic(service)

    def subscribe(self, projection: Projection, services: Sequence[str], group: str) -> None:
        """Feed `projection` from the event topics of `services` as consumer group `<service>.<group>`."""
        topics = [self.topic_of(service) for service in services]
        group_id = f"{self.settings.kafka_topic_prefix}{self.name}.{group}"
        self.subscriptions.append(Subscription(projection, topics, group_id))

    def unit_of_work(self, context: EventContext) -> UnitOfWork:
        return UnitOfWork(self.connections, self.store, self.registry, context, self.signal, self.histories)

    async def dispose(self) -> None:
        """Close the database connections: those units of work keep, then the engine's pool."""
        await self.connections.close()
        await self.engine.dispose()

    def migrations(self) -> Migrations:
        """The kit's migrations and the service's own (`metrology/<service>/migrations/`), against its models."""
        return service_migrations(self.name, self.schema)

    async def migrate(self) -> None:
        """Bring the database schema to the latest revision (a previous release's database is adopted first), once
        the database answers (`database_wait_seconds`)."""
        if self.engine.dialect.name == "sqlite" and self.engine.url.database:
            _make_folder_of(Path(self.engine.url.database))
        await wait_for_database(self.engine, self.settings.database_wait_seconds)
        await upgrade(self.engine, self.migrations())

    def topic_specs(self) -> list[TopicSpec]:
        """The topics this service writes, and those it reads (so a consumer can start before the producer)."""
        names = [self.topic] if self.publishes else []
        if self.subscriptions:
            names.append(self.dead_letter_topic)
            names += sorted({topic for s in self.subscriptions for topic in s.topics} - set(names))
        return [
            TopicSpec(name, self.settings.kafka_partitions, self.settings.kafka_replication_factor) for name in names
        ]


def _make_folder_of(database: Path) -> None:
    """The folder of an SQLite database file, made where missing; DatabaseRefusedError when it cannot be (a file in
    its place, no permission): waiting would not help."""
    try:
        database.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = f"{type(error).__name__}: {error.strerror or error}"
        raise DatabaseRefusedError(f"cannot make the database's folder {database.parent} ({reason})") from error


def new_runtime(settings: ServiceSettings, registry: EventRegistry, schema: Sequence[MetaData]) -> ServiceRuntime:
    """The common parts every service's bootstrap starts from."""
    engine = create_engine(
        settings.database_url, pool_size=settings.database_pool_size, max_overflow=settings.database_max_overflow
    )
    postgres = is_postgres(engine)  # relays elsewhere hear of commits by a NOTIFY after each commit, not within
    return ServiceRuntime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        registry=registry,
        store=EventStore(source=f"/metrology/{settings.service_name}", notify=not postgres),
        schema=list(schema),
        connections=KeptConnections(engine, keep=kept_within(settings.database_pool_size)),
        histories=StreamHistories(settings.events_kept),
        signal=CommitSignal(PostgresCommitNotifier(engine) if postgres else None),
    )
