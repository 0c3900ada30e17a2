"""Answers cached by read-model version: a projector batch (in another runtime, as another process would) makes
the next read recompute, and answers for different dates never stand in for each other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import cast

import httpx
import pytest
import scripted_year
import sqlalchemy as sa
from scripted_year import FakeRecord, NoDeadLetters

from metrology.eventkit.projector import ProjectorRunner, Record
from metrology.reporting.adapters import readmodel as rm
from metrology.reporting.application import kpis
from metrology.reporting.application.answers import AnswerCache
from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.domain.plan import Metric
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.app import create_app
from metrology.servicekit.runtime import ServiceRuntime

PLAN = "ben-tre-996-2021"


def _runtime(database_url: str) -> ServiceRuntime:
    settings = ReportingSettings(
        service_name="reporting", database_url=database_url, evaluation_date=date(2025, 12, 31)
    )
    return bootstrap(settings)


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[ServiceRuntime]:
    rt = _runtime(database_url)
    await rt.migrate()
    yield rt
    await rt.dispose()


@pytest.fixture
async def projector(server: ServiceRuntime, database_url: str) -> AsyncIterator[ServiceRuntime]:
    """A second runtime on the same database: the consumer, with a cache of its own the server never sees."""
    rt = _runtime(database_url)
    yield rt
    await rt.dispose()


@pytest.fixture
async def client(server: ServiceRuntime) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(server)), base_url="http://reporting"
    ) as c:
        yield c


def _training(record: FakeRecord) -> bool:
    return b"trainee-completed" in record.value


async def fold(runtime: ServiceRuntime, *, training: bool | None = None, batch: int = 25) -> None:
    runner = ProjectorRunner(runtime.sessions, runtime.subscriptions[0].projection, NoDeadLetters())
    records = [FakeRecord(e.to_json()) for e in scripted_year.build().envelopes()]
    records = [r for r in records if training is None or _training(r) == training]
    for i in range(0, len(records), batch):
        await runner.handle(cast(Sequence[Record], records[i : i + batch]))


def cache_of(runtime: ServiceRuntime) -> AnswerCache:
    cache = runtime.answers  # type: ignore[attr-defined]
    assert isinstance(cache, AnswerCache)
    return cache


async def versions(runtime: ServiceRuntime) -> dict[str, tuple[str, int]]:
    v = rm.read_model_versions
    async with runtime.engine.connect() as connection:
        rows = (await connection.execute(sa.select(v.c.tenant, v.c.epoch, v.c.version))).all()
    return {tenant: (epoch, version) for tenant, epoch, version in rows}


async def test_a_cached_answer_is_refreshed_after_the_projector_applies_a_new_batch(server, projector, client):
    await fold(projector, training=False)
    before = await versions(server)
    kpi = {"as_of": "2025-12-31"}
    first = await client.get("/kpis/person-times-trained", params=kpi)
    progress = await client.get(f"/plans/{PLAN}/progress", params=kpi)
    hits = cache_of(server).hits
    again = await client.get("/kpis/person-times-trained", params=kpi)
    progress_again = await client.get(f"/plans/{PLAN}/progress", params=kpi)
    assert cache_of(server).hits == hits + 2, "the repeated reads came from the cache"
    assert (again.content, progress_again.content) == (first.content, progress.content)
    assert first.json()["value"] == 0

    await fold(projector, training=True)  # the completions arrive, in the other runtime's batches
    after = await versions(server)
    assert after["83"][0] == before["83"][0] and after["83"][1] > before["83"][1]
    refreshed = await client.get("/kpis/person-times-trained", params=kpi)
    assert refreshed.json()["value"] == 15
    targets = {t["id"]: t for t in (await client.get(f"/plans/{PLAN}/progress", params=kpi)).json()["targets"]}
    assert targets["person-times-trained-2025"]["value"] == 15
    target = (await client.get(f"/plans/{PLAN}/targets/person-times-trained-2025", params=kpi)).json()
    assert target["value"] == 15


async def test_two_as_of_dates_are_not_confused(server, projector, client):
    await fold(projector)
    days = ["2025-03-19", "2025-03-20", "2025-03-19", "2025-03-20"]
    values = [(await client.get("/kpis/person-times-trained", params={"as_of": d})).json()["value"] for d in days]
    assert values == [0, 10, 0, 10]
    for _ in range(2):
        for as_of in (date(2025, 6, 30), date(2025, 12, 31)):
            want = scripted_year.expected(as_of)
            page = (await client.get(f"/plans/{PLAN}/progress", params={"as_of": as_of.isoformat()})).json()
            assert page["as_of"] == as_of.isoformat()
            targets = {t["id"]: t for t in page["targets"]}
            assert targets["person-times-trained-2025"]["value"] == want.person_times
            assert targets["enterprise-times-2025"]["value"] == want.enterprise_times
    series = [
        (await client.get("/kpis/person-times-trained/series", params={"from": "2025-01-01", "as_of": d})).json()
        for d in ("2025-03-31", "2025-12-31", "2025-03-31")
    ]
    assert [len(s["points"]) for s in series] == [3, 12, 3]


async def test_a_cached_answer_is_byte_identical_to_a_fresh_one(server, projector, client):
    await fold(projector)
    paths = [
        f"/plans/{PLAN}/progress",
        f"/plans/{PLAN}/targets/demand-coverage-2025",
        f"/plans/{PLAN}/report.csv",
        "/kpis/enterprise-times",
        "/kpis/person-times-trained/series?from=2025-01-01",
    ]
    first = [(await client.get(p, params={"as_of": "2025-12-31"})).content for p in paths]
    cached = [(await client.get(p, params={"as_of": "2025-12-31"})).content for p in paths]
    cache_of(server).clear()
    fresh = [(await client.get(p, params={"as_of": "2025-12-31"})).content for p in paths]
    assert first == cached == fresh


async def test_a_rebuild_resets_the_version_to_a_new_epoch(server, projector):
    await fold(projector)
    ((epoch, version),) = (await versions(server)).values()
    assert version > 1
    async with projector.sessions.begin() as session:
        await projector.subscriptions[0].projection.reset(session)
    assert await versions(server) == {}
    await fold(projector, batch=10_000)
    ((new_epoch, new_version),) = (await versions(server)).values()
    assert (new_version, new_epoch != epoch) == (1, True)


async def person_times(connection) -> int:
    return (await kpis.read(connection, Metric.PERSON_TIMES_TRAINED, kpis.Scope("83"), date(2025, 12, 31))).value


async def test_an_answer_computed_while_a_batch_commits_is_served_but_not_kept(server, projector):
    cache, computed = AnswerCache(), []

    async def compute_while_the_completions_arrive(connection) -> int:
        await fold(projector, training=True)  # commits in the other runtime while this computation runs
        computed.append(await person_times(connection))
        return computed[-1]

    async def compute(connection) -> int:
        computed.append(await person_times(connection))
        return computed[-1]

    assert await cache.answer(server.engine, "83", "k", compute_while_the_completions_arrive) == 15
    assert len(cache) == 0, "the version moved during the computation"
    assert [await cache.answer(server.engine, "83", "k", compute) for _ in range(2)] == [15, 15]
    assert (computed, cache.misses, cache.hits) == ([15, 15], 2, 1)


async def test_a_request_that_waited_for_its_turn_while_a_batch_committed_keeps_its_answer(server, projector):
    cache, turns = AnswerCache(computations=1), []
    first_computing, first_may_finish = asyncio.Event(), asyncio.Event()

    async def first(connection) -> int:
        turns.append("first")
        first_computing.set()
        await first_may_finish.wait()
        await fold(projector, training=True)  # the version moves before the first computation ends
        return await person_times(connection)

    async def later(connection) -> int:
        turns.append("later")
        return await person_times(connection)

    running = asyncio.create_task(cache.answer(server.engine, "83", "k", first))
    await first_computing.wait()
    waiting = asyncio.create_task(cache.answer(server.engine, "83", "k", later))  # finds no free slot
    await asyncio.sleep(0.05)
    first_may_finish.set()
    assert (await running, await waiting) == (15, 15)
    assert await cache.answer(server.engine, "83", "k", later) == 15
    assert (turns, cache.hits) == (["first", "later"], 1), "the waiting request's answer was kept at the new version"


def test_the_cache_keeps_only_the_most_recently_used_answers():
    cache = AnswerCache(size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == (True, 1)  # "a" is now the most recent
    cache.put("c", 3)
    assert (cache.get("b"), cache.get("a"), cache.get("c"), len(cache)) == ((False, None), (True, 1), (True, 3), 2)
