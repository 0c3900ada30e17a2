"""Probes, freshness and pipeline metrics.

- `/health` (liveness): the process answers, and its relay loop and projector batches are making progress (a
  wedged loop fails it, so the orchestrator restarts the process).
- `/ready` (readiness): PostgreSQL answers, and no consumer partition is held for a newer event version. Kafka
  is *not* required: commands land in the outbox while the broker is away; its state shows as outbox backlog.
- `/freshness`: how far each read model of the service is (newest event folded and when it was recorded).
- `/metrics`: Prometheus text: outbox backlog, relay state and rate, projector counts, consumer lag per group,
  dead letters, held partitions, last applied event time; a service may add its own metrics after these.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.client import AIOKafkaClient
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from metrology.eventkit.database import statements_alone
from metrology.eventkit.projector import projection_progress
from metrology.eventkit.relay import relay_checkpoints
from metrology.eventkit.store import Position
from metrology.servicekit.problems import problem
from metrology.servicekit.runtime import ServiceRuntime

router = APIRouter(tags=["operations"])

RELAY_STALL_SECONDS = 60.0  # a relay loop that has not come round for this long is wedged
BATCH_STALL_SECONDS = 300.0  # a projector batch running this long is wedged
MetricSource = Callable[[Request], Awaitable[bytes]]


@router.get("/health", summary="Liveness: the process answers and its loops make progress", response_model=None)
async def health(request: Request) -> dict[str, object] | JSONResponse:
    runtime: ServiceRuntime = request.app.state.runtime
    wedged = _wedged_loops(runtime, time.monotonic())
    if wedged:
        return problem(503, "Not live", f"no progress: {', '.join(wedged)}", wedged=wedged)
    roles = process_roles(runtime)
    return {"status": "ok", "roles": roles} if roles else {"status": "ok"}


def process_roles(runtime: ServiceRuntime) -> dict[str, str]:
    """Whether this process's relay and consumers are the active ones or hot standbys."""
    roles = {}
    if runtime.relays:
        roles["relay"] = "active" if any(r.active for r in runtime.relays) else "standby"
    if runtime.consumer_role:
        roles["consumers"] = runtime.consumer_role
    return roles


@router.get(
    "/ready",
    summary="Readiness: the database answers and no partition is held (Kafka may be away: the outbox holds)",
    response_model=None,
)
async def ready(request: Request) -> dict[str, object] | JSONResponse:
    runtime: ServiceRuntime = request.app.state.runtime
    database = await _database_ok(runtime)
    held = [f"{h.topic}[{h.partition}]@{h.offset}: {h.reason}" for r in runtime.runners for h in r.stats.held.values()]
    checks: dict[str, Any] = {"database": database, "kafka": await _kafka_ok(runtime)}
    if database and runtime.publishes:
        checks["outbox_backlog"] = await _outbox_backlog_if_a_connection_is_free(runtime)
    if held:
        checks["held_partitions"] = held
    if database and not held:
        return {"status": "ready", "checks": checks}
    failing = "database" if not database else "partitions held for a newer event version"
    return problem(503, "Not ready", f"not ready: {failing}", checks=checks)


@router.get("/freshness", summary="How far each read model is: the newest event folded and when it was recorded")
async def freshness(request: Request) -> dict[str, Any]:
    runtime: ServiceRuntime = request.app.state.runtime
    return {"projections": await read_model_freshness(runtime)}


@router.get(
    "/metrics",
    summary="Prometheus metrics: outbox backlog, relay, projectors, consumer lag, dead letters (and the service's own)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
async def metrics(request: Request) -> Response:
    runtime: ServiceRuntime = request.app.state.runtime
    body = await pipeline_metrics(runtime)
    for source in runtime.metric_sources:
        body += await source(request)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _wedged_loops(runtime: ServiceRuntime, now: float) -> list[str]:
    wedged = [f"relay {r.name}" for r in runtime.relays if now - r.last_loop_at > RELAY_STALL_SECONDS]
    for runner in runtime.runners:
        busy_since = runner.stats.busy_since
        if busy_since is not None and now - busy_since > BATCH_STALL_SECONDS:
            wedged.append(f"projection {runner.name}")
    return wedged


async def outbox_backlog(runtime: ServiceRuntime) -> int:
    """Events committed but not yet published by the relay."""
    async with asyncio.timeout(3), runtime.engine.connect() as connection:
        row = (
            await connection.execute(sa.select(relay_checkpoints.c.txid, relay_checkpoints.c.position).limit(1))
        ).first()
        after = Position(row.txid, row.position) if row else Position()
        return await runtime.store.count_after(connection, after)


async def _outbox_backlog_if_a_connection_is_free(runtime: ServiceRuntime) -> int | None:
    """The outbox backlog, or None when the pool had no connection for it within 3 s: requests are using them all.
    The database answered on a connection of its own, so a busy service stays ready rather than being taken out of
    its load balancer for being busy."""
    try:
        return await outbox_backlog(runtime)
    except TimeoutError:
        return None


async def read_model_freshness(runtime: ServiceRuntime) -> list[dict[str, Any]]:
    names = [s.projection.name for s in runtime.subscriptions]
    if not names:
        return []
    async with asyncio.timeout(3), runtime.engine.connect() as connection:
        rows = {
            row.consumer: row for row in await (await statements_alone(connection)).execute(_progress_of(tuple(names)))
        }
    return [_freshness_of(name, rows.get(name)) for name in names]


@cache
def _progress_of(names: tuple[str, ...]) -> sa.Select[Any]:
    """The progress rows of a runtime's projections (the same names on every read answer), built once."""
    return sa.select(projection_progress).where(projection_progress.c.consumer.in_(names))


def _freshness_of(name: str, row: Any) -> dict[str, Any]:
    if row is None:
        return {"projection": name, "events_applied": 0, "last_event_id": None, "last_event_recorded_at": None}
    return {
        "projection": name,
        "events_applied": row.events_applied,
        "last_event_id": row.last_event_id,
        "last_event_recorded_at": _iso(row.last_event_recorded_at),
        "updated_at": _iso(row.updated_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def pipeline_metrics(runtime: ServiceRuntime) -> bytes:
    registry = CollectorRegistry()
    _gauge(registry, "metrology_database_up", "1 when the service's database answers").set(
        1 if await _database_ok(runtime) else 0
    )
    if runtime.publishes:
        with contextlib.suppress(Exception):
            _gauge(registry, "metrology_outbox_backlog_events", "Events committed, not yet published").set(
                await outbox_backlog(runtime)
            )
    for relay in runtime.relays:
        _gauge(registry, "metrology_relay_active", "1 while this relay holds the lock and publishes").set(
            1 if relay.active else 0
        )
        _counter(registry, "metrology_relay_published_events", "Events published by this relay").inc(relay.published)
        _counter(registry, "metrology_relay_republished", "Times the relay republished from the store").inc(
            relay.republished
        )
    await _projection_metrics(registry, runtime)
    with contextlib.suppress(Exception):
        await _lag_metrics(registry, runtime)
    return generate_latest(registry)


async def _projection_metrics(registry: CollectorRegistry, runtime: ServiceRuntime) -> None:
    applied = _counter(registry, "metrology_projector_applied_events", "Events applied", ["projection"])
    dead = _counter(registry, "metrology_projector_dead_letters", "Events dead-lettered", ["projection"])
    retries = _counter(registry, "metrology_projector_retries", "Batch retries", ["projection"])
    held = _gauge(
        registry, "metrology_projector_held_partitions", "Partitions held for a newer version", ["projection"]
    )
    for runner in runtime.runners:
        applied.labels(runner.name).inc(runner.stats.applied)
        dead.labels(runner.name).inc(runner.stats.dead_lettered)
        retries.labels(runner.name).inc(runner.stats.retries)
        held.labels(runner.name).set(len(runner.stats.held))
    with contextlib.suppress(Exception):
        last = _gauge(
            registry,
            "metrology_read_model_last_event_timestamp_seconds",
            "When the newest event folded into the read model was recorded",
            ["projection"],
        )
        for entry in await read_model_freshness(runtime):
            if entry["last_event_recorded_at"]:
                last.labels(entry["projection"]).set(
                    datetime.fromisoformat(entry["last_event_recorded_at"]).timestamp()
                )


async def _lag_metrics(registry: CollectorRegistry, runtime: ServiceRuntime) -> None:
    if not runtime.subscriptions:
        return
    lag = _gauge(registry, "metrology_consumer_lag_records", "Records not yet consumed", ["group", "topic"])
    async with asyncio.timeout(5):
        for subscription in runtime.subscriptions:
            for topic, records in (await consumer_lag(runtime, subscription.group_id, subscription.topics)).items():
                lag.labels(subscription.group_id, topic).set(records)


async def consumer_lag(runtime: ServiceRuntime, group_id: str, topics: Any) -> dict[str, int]:
    """Records behind the end of each topic for the group (its committed offsets; none committed = all)."""
    consumer = AIOKafkaConsumer(
        **runtime.settings.kafka().aiokafka_options(), group_id=group_id, enable_auto_commit=False
    )
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()  # no public metadata call for an unsubscribed consumer
        partitions = [TopicPartition(t, p) for t in topics for p in cluster.partitions_for_topic(t) or ()]
        ends = await consumer.end_offsets(partitions)
        lag: dict[str, int] = {}
        for tp in partitions:
            committed = await consumer.committed(tp) or 0
            lag[tp.topic] = lag.get(tp.topic, 0) + max(ends[tp] - committed, 0)
        return lag
    finally:
        await consumer.stop()


def _gauge(registry: CollectorRegistry, name: str, doc: str, labels: list[str] | None = None) -> Any:
    return Gauge(name, doc, labels or [], registry=registry)


def _counter(registry: CollectorRegistry, name: str, doc: str, labels: list[str] | None = None) -> Any:
    return Counter(name, doc, labels or [], registry=registry)


async def _database_ok(runtime: ServiceRuntime) -> bool:
    """Whether the database answers, asked on a connection of its own (PostgreSQL): a pool drained by busy
    requests does not make the service look unready (on SQLite there is no pool to spare)."""
    postgres = runtime.engine.dialect.name == "postgresql"
    engine = create_async_engine(runtime.engine.url, poolclass=NullPool) if postgres else runtime.engine
    try:
        async with asyncio.timeout(3), engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        if postgres:
            await engine.dispose()


async def _kafka_ok(runtime: ServiceRuntime) -> bool:
    client = AIOKafkaClient(**runtime.settings.kafka().aiokafka_options(), request_timeout_ms=3000)
    try:
        async with asyncio.timeout(4):
            await client.bootstrap()
        return True
    except Exception:
        return False
    finally:
        with contextlib.suppress(Exception):
            await client.close()
