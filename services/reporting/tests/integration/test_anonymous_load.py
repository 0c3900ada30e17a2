"""The public dashboard under a crowd of anonymous readers on PostgreSQL: uncached answers are computed a few at a
time, each on its lanes' connections, the rest wait holding no connection or are told 503 with Retry-After, never
500; the readiness probe answers meanwhile on a connection of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta

import httpx
import pytest

from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.app import create_app
from metrology.servicekit.health import _database_ok
from metrology.servicekit.runtime import ServiceRuntime

pytestmark = pytest.mark.integration
PLAN = "ben-tre-996-2021"
READERS = 72
COMPUTATIONS = 4
LANES = 2  # connections a progress page is computed on


@pytest.fixture
async def reporting(postgres_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, ServiceRuntime]]:
    settings = ReportingSettings.from_env(
        "reporting",
        database_url=postgres_url,
        answer_computations=COMPUTATIONS,
        answer_wait_seconds=2.0,
        progress_lanes=LANES,
    )
    runtime = bootstrap(settings, evaluate=False)
    await runtime.migrate()
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://reporting", timeout=120) as client:
        yield client, runtime
    await runtime.dispose()


async def test_many_uncached_progress_requests_never_drain_the_pool_nor_answer_500(reporting):
    client, runtime = reporting
    pool = runtime.engine.sync_engine.pool
    most_checked_out, done = 0, asyncio.Event()

    async def watch_the_pool() -> None:
        nonlocal most_checked_out
        while not done.is_set():
            most_checked_out = max(most_checked_out, pool.checkedout())  # type: ignore[attr-defined]
            await asyncio.sleep(0.005)

    async def read(day: date) -> httpx.Response:
        return await client.get(f"/plans/{PLAN}/progress", params={"as_of": day.isoformat()})

    watcher = asyncio.create_task(watch_the_pool())
    days = [date(2025, 1, 1) + timedelta(days=n) for n in range(READERS)]
    answers = await asyncio.gather(*(read(day) for day in days))
    ready = await client.get("/ready")
    done.set()
    await watcher

    statuses = sorted({a.status_code for a in answers})
    assert set(statuses) <= {200, 503}, statuses
    assert all(a.headers.get("retry-after") for a in answers if a.status_code == 503)
    assert sum(a.status_code == 200 for a in answers) >= COMPUTATIONS
    # the computations' lanes, the short cache look-ups and a freshness-header read or two: far from the pool's 10 + 20
    assert most_checked_out <= COMPUTATIONS * LANES + COMPUTATIONS + 2, most_checked_out
    assert ready.status_code in (200, 503) and ready.json()["checks"]["database"] is True


async def test_the_readiness_database_check_answers_while_every_pooled_connection_is_taken(reporting):
    _, runtime = reporting
    held = [await runtime.engine.connect() for _ in range(30)]  # pool_size 10 + max_overflow 20
    try:
        answered = await asyncio.wait_for(_database_ok(runtime), timeout=10)
    finally:
        for connection in held:
            await connection.close()
    assert answered is True
