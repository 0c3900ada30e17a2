"""The kit where the pipeline meets HTTP: readiness without Kafka, 503 without the database, freshness, metrics,
liveness of the background loops and the event size limit."""

import time
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.problems import install_problem_handlers
from metrology.servicekit.workers import Workers
from metrology.training.bootstrap import bootstrap
from metrology.training.settings import TrainingSettings

SECRET = "test-secret-0123456789abcdef0123456789"
NO_KAFKA = "127.0.0.1:1"  # nothing listens there: the broker is away
COURSE = {
    "title": "Hiệu chuẩn cân",
    "topic": "calibration of scales",
    "organiser": "Chi cục TĐC",
    "starts_on": "2025-06-02",
    "ends_on": "2025-06-04",
}


def trainer() -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(SECRET, 'tester', ['trainer'])}"}


async def client_for(database_url: str, **settings) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    runtime = bootstrap(
        TrainingSettings.from_env(
            "training", database_url=database_url, auth_jwt_secret=SECRET, kafka_bootstrap_servers=NO_KAFKA, **settings
        )
    )
    app = create_app(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://training") as client:
        yield client, runtime
    await runtime.dispose()


@pytest.fixture
async def service(sqlite_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    async for pair in client_for(sqlite_url):
        await pair[1].migrate()
        yield pair


async def test_an_api_is_ready_with_kafka_away_and_shows_the_outbox_backlog(service):
    client, _ = service
    assert (await client.post("/courses", json=COURSE, headers=trainer())).status_code == 201

    response = await client.get("/ready")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"] is True and checks["kafka"] is False
    assert checks["outbox_backlog"] == 1, "the command waits in the outbox for the broker"


async def test_with_the_database_down_a_command_gets_503_problem_with_retry_after_and_readiness_fails():
    async for client, _ in client_for("postgresql://metrology:metrology@127.0.0.1:1/absent"):
        response = await client.post("/courses", json=COURSE, headers=trainer())
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["retry-after"] == "5"
        assert response.json()["type"] == "urn:metrology:problem:database-unavailable"
        assert (await client.get("/ready")).status_code == 503


async def test_a_command_says_when_its_event_was_recorded_and_reads_say_how_fresh_each_read_model_is(sqlite_url):
    from metrology.reporting.bootstrap import bootstrap as reporting

    async for client, training in client_for(sqlite_url):
        await training.migrate()
        response = await client.post("/courses", json=COURSE, headers=trainer())
        assert "recorded-at" in response.headers
    reporting_url = sqlite_url.replace("test.db", "reporting.db")
    runtime = reporting(
        TrainingSettings.from_env("reporting", database_url=reporting_url, kafka_bootstrap_servers=NO_KAFKA)
    )
    await runtime.migrate()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime)), base_url="http://r") as client:
        freshness = (await client.get("/freshness")).json()["projections"]
        assert freshness == [
            {"projection": "reporting.kpis", "events_applied": 0, "last_event_id": None, "last_event_recorded_at": None}
        ]
        read = await client.get("/plans")
        assert read.headers["read-model-freshness"] == 'reporting.kpis;recorded-at="";applied=0'
    await runtime.dispose()


async def test_concurrent_reads_share_one_freshness_read_and_a_later_read_sees_a_newer_one(monkeypatch):
    import asyncio

    from metrology.servicekit import health
    from metrology.servicekit.app import FreshnessHeader

    reads = 0

    async def slow_freshness(runtime: object) -> list[dict[str, object]]:
        nonlocal reads
        reads += 1
        applied = reads
        await asyncio.sleep(0.05)
        return [{"projection": "p", "last_event_recorded_at": None, "events_applied": applied}]

    async def answer(scope, receive, send) -> None:
        await asyncio.sleep(0.01)  # computing the answer: the whole crowd has arrived before the first one is sent
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    monkeypatch.setattr(health, "read_model_freshness", slow_freshness)
    app = FreshnessHeader(answer, runtime=None)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
        crowd = await asyncio.gather(*(client.get("/plans") for _ in range(40)))
        later = await client.get("/plans")

    headers = {r.headers["read-model-freshness"] for r in crowd}
    assert reads <= 3, reads
    assert later.headers["read-model-freshness"] == f'p;recorded-at="";applied={reads}'
    assert f'p;recorded-at="";applied={reads}' not in headers, "the later request did not reuse an older read"


async def test_metrics_expose_the_outbox_backlog_and_the_database_state(service):
    client, _ = service
    await client.post("/courses", json=COURSE, headers=trainer())

    text = (await client.get("/metrics")).text

    assert "metrology_database_up 1.0" in text
    assert "metrology_outbox_backlog_events 1.0" in text


async def test_a_relay_loop_that_stops_coming_round_fails_liveness(service):
    client, runtime = service
    assert (await client.get("/health")).status_code == 200
    workers = Workers(runtime)
    from metrology.eventkit.relay import OutboxRelay

    relay = OutboxRelay(runtime.engine, runtime.store, publisher=None, topic="t")  # type: ignore[arg-type]
    relay.last_loop_at = time.monotonic() - 3600
    runtime.relays.append(relay)
    del workers

    response = await client.get("/health")

    assert response.status_code == 503
    assert response.json()["wedged"] == ["relay kafka"]


async def test_an_event_over_the_size_limit_is_refused_with_a_problem_naming_the_limit(service):
    client, runtime = service
    runtime.store.max_event_bytes = 300

    response = await client.post("/courses", json=COURSE, headers=trainer())

    assert response.status_code == 413
    problem = response.json()
    assert problem["rule"] == "event-size-limit" and "the limit is 300 bytes" in problem["detail"]
    assert (await client.get("/ready")).json()["checks"]["outbox_backlog"] == 0, "nothing was stored"


async def test_the_grafana_pipeline_row_reads_metrics_that_the_services_export(service):
    import json
    import re
    from pathlib import Path

    from metrology.eventkit.projector import ProjectorRunner
    from metrology.eventkit.relay import OutboxRelay

    client, runtime = service
    runtime.relays.append(OutboxRelay(runtime.engine, runtime.store, publisher=None, topic="t"))  # type: ignore[arg-type]
    runtime.runners.append(ProjectorRunner(runtime.sessions, projection=_Named(), dead_letters=None))  # type: ignore[arg-type]
    text = (await client.get("/metrics")).text
    grafana = json.loads((Path(__file__).parents[3] / "deploy/grafana/metrology-kpis.json").read_text())
    pipeline = [p for p in grafana["panels"] if p["id"] > 9]
    names = {n for p in pipeline for t in p["targets"] for n in re.findall(r"metrology_[a-z_]+", t["expr"])}
    assert names, "the dashboard has a pipeline row"
    lag = "metrology_consumer_lag_records"  # needs a broker to compute; the other names need nothing else
    for name in names - {lag}:
        assert f"# TYPE {name} " in text, f"{name} is not exported"


class _Named:
    name = "test.read-model"


async def test_prune_forgets_idempotency_answers_older_than_the_horizon_only(service):
    from datetime import UTC, datetime, timedelta

    import sqlalchemy as sa

    from metrology.servicekit.commands import idempotency_keys, prune_idempotency_keys

    client, runtime = service
    for key in ("old", "new"):
        response = await client.post(
            "/courses", json=COURSE | {"title": f"Khóa {key}"}, headers=trainer() | {"Idempotency-Key": key}
        )
        assert response.status_code == 201
    async with runtime.engine.begin() as connection:
        aged = datetime.now(UTC) - timedelta(days=31)
        await connection.execute(
            sa.update(idempotency_keys).where(idempotency_keys.c.key == "old").values(created_at=aged)
        )

    assert await prune_idempotency_keys(runtime, timedelta(days=30)) == 1

    async with runtime.engine.connect() as connection:
        assert (await connection.execute(sa.select(idempotency_keys.c.key))).scalars().all() == ["new"]


@pytest.mark.parametrize(
    ("raised", "status"),
    [
        (asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"), 503),
        (asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator command"), 503),
        (asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"), 503),
        (asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"), 503),
        (asyncpg.exceptions.InternalClientError("cannot switch to state 15; another operation is in progress"), 503),
        (asyncpg.exceptions.InterfaceError("connection is closed"), 503),
        (asyncpg.exceptions.UndefinedTableError('relation "x" does not exist'), 500),
    ],
)
async def test_driver_errors_raised_while_a_connection_opens_are_problems_503_when_the_server_is_away(raised, status):
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise raised

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as client:
        response = await client.get("/boom")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    if status == 503:
        assert response.headers["retry-after"] == "5"
        assert response.json()["type"] == "urn:metrology:problem:database-unavailable"


@pytest.mark.integration
async def test_a_service_whose_requests_hold_every_pooled_connection_stays_ready(postgres_url):
    async for client, runtime in client_for(postgres_url, database_pool_size=2, database_max_overflow=0):
        await runtime.migrate()
        busy = [await runtime.engine.connect() for _ in range(2)]  # every connection of the pool, taken by requests
        try:
            response = await client.get("/ready")
        finally:
            for connection in busy:
                await connection.close()
        assert response.status_code == 200, response.text
        assert response.json()["checks"]["database"] is True
        assert response.json()["checks"]["outbox_backlog"] is None, "not counted: no connection was free for it"
        assert (await client.get("/ready")).json()["checks"]["outbox_backlog"] == 0
