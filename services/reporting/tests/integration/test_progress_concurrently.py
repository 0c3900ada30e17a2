"""The plan's progress with its targets spread over lanes, connections computing at the same time (PostgreSQL):
what two targets ask alike is computed once, the page is the one computed a target after another, and it holds no
more connections than its lanes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
import scripted_year
from scripted_year import FakeRecord, NoDeadLetters

from metrology.eventkit.projector import ProjectorRunner
from metrology.reporting.application import kpis
from metrology.reporting.application.progress import plan_progress, plan_progress_concurrently
from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.runtime import ServiceRuntime

PLAN = "ben-tre-996-2021"
AS_OF = date(2025, 6, 30)  # before 2025's end: the 2025 and 2030 targets on one metric count the same facts


@pytest.fixture
async def runtime(postgres_url: str) -> AsyncIterator[ServiceRuntime]:
    settings = ReportingSettings(service_name="reporting", database_url=postgres_url, plan_files="ben-tre-2021.yaml")
    rt = bootstrap(settings, evaluate=False)
    await rt.migrate()
    runner = ProjectorRunner(rt.sessions, rt.subscriptions[0].projection, NoDeadLetters())
    now = datetime.now(UTC)
    await runner.handle([FakeRecord(e._replace(time=now).to_json()) for e in scripted_year.build().envelopes()])
    yield rt
    await rt.dispose()


def _page(progress: list) -> list[tuple[str, float, list, str]]:
    return [(p.target.id, p.reading.value, p.series, p.status.value) for p in progress]


async def test_targets_asking_the_same_reading_at_the_same_time_compute_it_once(runtime, monkeypatch):
    plan = next(p for p in runtime.plans if p.id == PLAN)
    asked: list[tuple[kpis.Metric, date | None]] = []
    read = kpis.read

    async def counted_read(connection, metric, scope, as_of, *, breakdowns=True):
        asked.append((metric, scope.start))
        return await read(connection, metric, scope, as_of, breakdowns=breakdowns)

    monkeypatch.setattr(kpis, "read", counted_read)
    async with runtime.engine.connect() as connection:
        progress = await plan_progress_concurrently(runtime.engine, connection, plan, AS_OF)

    shared = [t for t in plan.targets if t.metric is kpis.Metric.ENTERPRISE_TIMES]
    assert len(shared) == 2 and len({t.window.start for t in shared}) == 1, "the plan's two enterprise-times targets"
    assert asked.count((kpis.Metric.ENTERPRISE_TIMES, shared[0].window.start)) == 1
    assert len(asked) == len(set(asked)) < len(plan.targets)
    by_id = {p.target.id: p for p in progress}
    assert by_id["enterprise-times-2025"].reading is by_id["enterprise-times-2030"].reading


@pytest.mark.parametrize("lanes", [2, 3, 8])
async def test_the_page_computed_at_the_same_time_is_the_page_computed_target_by_target(runtime, lanes):
    plan = next(p for p in runtime.plans if p.id == PLAN)
    async with runtime.engine.connect() as connection:
        together = await plan_progress_concurrently(runtime.engine, connection, plan, AS_OF, lanes=lanes)
        one_by_one = await plan_progress(connection, plan, AS_OF)

    assert _page(together) == _page(one_by_one)
    assert [p.target.id for p in together] == [t.id for t in plan.targets]


async def test_a_target_waiting_for_a_shared_answer_gets_its_failure(runtime, monkeypatch):
    plan = next(p for p in runtime.plans if p.id == PLAN)

    async def database_gone(connection, metric, scope, as_of, *, breakdowns=True):
        await asyncio.sleep(0.05)  # the other enterprise-times target asks meanwhile and waits
        raise ConnectionResetError("the database went away")

    monkeypatch.setattr(kpis, "read", database_gone)
    async with runtime.engine.connect() as connection:
        with pytest.raises(ConnectionResetError):
            await plan_progress_concurrently(runtime.engine, connection, plan, AS_OF)


@pytest.mark.parametrize("lanes", [1, 2, 3])
async def test_a_page_holds_no_more_connections_than_its_lanes(runtime, monkeypatch, lanes):
    plan = next(p for p in runtime.plans if p.id == PLAN)
    pool = runtime.engine.sync_engine.pool
    held: list[int] = []
    read = kpis.read

    async def watched_read(connection, metric, scope, as_of, *, breakdowns=True):
        held.append(pool.checkedout())
        await asyncio.sleep(0.02)  # long enough for the other lanes to be reading too
        return await read(connection, metric, scope, as_of, breakdowns=breakdowns)

    monkeypatch.setattr(kpis, "read", watched_read)
    async with runtime.engine.connect() as connection:
        await plan_progress_concurrently(runtime.engine, connection, plan, AS_OF, lanes=lanes)

    assert max(held) == lanes
