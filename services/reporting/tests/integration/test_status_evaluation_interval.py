"""Target statuses with an evaluation interval: batches are not evaluated in their own transaction, what they
touched is evaluated once the interval has passed, in a transaction of its own, without a status twice, and that
evaluation holds no batch back while it reads its targets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import pytest
import scripted_year
import sqlalchemy as sa
from scripted_year import FakeRecord

from metrology.eventkit.projector import ProjectorRunner
from metrology.reporting.adapters import readmodel as rm
from metrology.reporting.application import evaluation as evaluation_module
from metrology.reporting.application.evaluation import StatusEvaluation
from metrology.reporting.application.projection import KpiProjection
from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.domain.plan import Metric
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.runtime import ServiceRuntime

pytestmark = pytest.mark.integration


class NoDeadLetters:
    async def send(self, letters: list[object]) -> None:
        raise AssertionError(letters)


@asynccontextmanager
async def runtime_on(database_url: str) -> AsyncIterator[ServiceRuntime]:
    settings = ReportingSettings(
        service_name="reporting",
        database_url=database_url,
        evaluation_date=date(2025, 12, 31),
        evaluation_interval=3600,
    )
    rt = bootstrap(settings)
    await rt.migrate()
    try:
        yield rt
    finally:
        await rt.dispose()


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[ServiceRuntime]:
    async with runtime_on(database_url) as rt:
        yield rt


@pytest.fixture
async def pg_runtime(postgres_url: str) -> AsyncIterator[ServiceRuntime]:
    """Two consumers of the group share one PostgreSQL database (SQLite has one writer at a time)."""
    async with runtime_on(postgres_url) as rt:
        yield rt


def evaluation_of(runtime: ServiceRuntime) -> StatusEvaluation:
    projection = runtime.subscriptions[0].projection
    assert isinstance(projection, KpiProjection) and isinstance(projection.evaluation, StatusEvaluation)
    return projection.evaluation


def year_records() -> list[FakeRecord]:
    return [FakeRecord(e.to_json()) for e in scripted_year.build().envelopes()]


async def fold_the_year(runtime: ServiceRuntime, records: list[FakeRecord] | None = None) -> None:
    runner = ProjectorRunner(runtime.sessions, runtime.subscriptions[0].projection, NoDeadLetters())
    records = year_records() if records is None else records
    for i in range(0, len(records), 25):
        await runner.handle(records[i : i + 25])


async def statuses_published(runtime: ServiceRuntime) -> dict[str, list[str]]:
    """Every target's published statuses, in order."""
    found: dict[str, list[str]] = {}
    async with runtime.sessions() as session:
        for plan in runtime.plans:  # type: ignore[attr-defined]
            for target in plan.targets:
                stream = f"target-{plan.id}-{target.id}"
                events = await runtime.store.read_stream(session, stream)
                found[target.id] = [e.data["status"] for e in events]
    return found


async def still_to_change(runtime: ServiceRuntime) -> int:
    """How many targets a full evaluation now would change (rolled back: nothing is kept)."""
    async with runtime.sessions() as session, session.begin():
        changed = await evaluation_of(runtime).evaluate(session)
        await session.rollback()
    return changed


async def run_trailing_until(runtime: ServiceRuntime, done, extra_seconds: float = 1.0) -> None:
    """Run the trailing evaluation with a short interval until `done()`, then a few more rounds."""
    evaluation_of(runtime).interval = 0.2
    stop = asyncio.Event()
    trailing = asyncio.create_task(runtime.background[0](stop))
    try:
        async with asyncio.timeout(30):
            while not await done():  # noqa: ASYNC110 - polls the database, not an in-process flag
                await asyncio.sleep(0.1)
        await asyncio.sleep(extra_seconds)
    finally:
        stop.set()
        await trailing


async def test_batches_with_an_interval_are_evaluated_once_after_it_not_with_each_batch(runtime, monkeypatch):
    evaluation = evaluation_of(runtime)
    calls: list[set[object]] = []
    evaluate = evaluation.evaluate

    async def counted(session, metrics=None):
        calls.append(set(metrics) if metrics is not None else {"all"})
        return await evaluate(session, metrics)

    monkeypatch.setattr(evaluation, "evaluate", counted)
    await fold_the_year(runtime)
    assert calls == [], "no batch evaluated in its own transaction: the interval's evaluation does"
    assert await statuses_published(runtime) == {target: [] for target in await statuses_published(runtime)}

    async def evaluated() -> bool:
        return len(calls) >= 1

    await run_trailing_until(runtime, evaluated)
    assert calls == [set(Metric)], "what the batches touched (every metric, first) was evaluated once, then not again"
    assert all(len(statuses) == 1 for statuses in (await statuses_published(runtime)).values())


async def evaluate_every_target(runtime: ServiceRuntime) -> None:
    async with runtime.sessions() as session, session.begin():
        await evaluation_of(runtime).evaluate(session)


async def test_statuses_left_behind_are_published_once_each_by_the_trailing_evaluation(runtime):
    await fold_the_year(runtime)
    await evaluate_every_target(runtime)
    before = await statuses_published(runtime)
    async with runtime.sessions() as session, session.begin():
        await session.execute(sa.update(rm.target_statuses).values(status="off-track"))
    evaluation_of(runtime)._dirty = set(Metric)  # the batches touched every metric since the last evaluation

    async def nothing_to_change() -> bool:
        return await still_to_change(runtime) == 0

    await run_trailing_until(runtime, nothing_to_change)

    after = await statuses_published(runtime)
    for target, statuses in after.items():
        assert statuses == before[target] * 2, (target, statuses)  # the true status published again, once


async def test_a_batch_commits_while_the_interval_s_evaluation_reads_its_targets(pg_runtime, monkeypatch):
    records = year_records()
    await fold_the_year(pg_runtime, records[: len(records) // 2])
    reading, release = asyncio.Event(), asyncio.Event()
    target_progress = evaluation_module.target_progress

    async def held_while_reading(*args: Any, **kwargs: Any) -> Any:
        reading.set()
        await release.wait()
        return await target_progress(*args, **kwargs)

    monkeypatch.setattr(evaluation_module, "target_progress", held_while_reading)
    evaluation_of(pg_runtime).interval = 0.2
    stop = asyncio.Event()
    trailing = asyncio.create_task(pg_runtime.background[0](stop))
    try:
        await asyncio.wait_for(reading.wait(), 10)
        await asyncio.wait_for(fold_the_year(pg_runtime, records[len(records) // 2 :]), 30)
    finally:
        release.set()
        stop.set()
        await trailing
    assert evaluation_of(pg_runtime)._dirty, "what the batches folded meanwhile is noted for the next round"


async def test_two_evaluations_at_once_publish_each_changed_status_once(pg_runtime, monkeypatch):
    await fold_the_year(pg_runtime)
    await evaluate_every_target(pg_runtime)
    first = evaluation_of(pg_runtime)
    before = await statuses_published(pg_runtime)
    async with pg_runtime.sessions() as session, session.begin():
        await session.execute(sa.update(rm.target_statuses).values(status="off-track"))
    target_progress = evaluation_module.target_progress

    async def interleaved(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(0.01)  # the other evaluation's turn, were it not waiting
        return await target_progress(*args, **kwargs)

    monkeypatch.setattr(evaluation_module, "target_progress", interleaved)
    second = StatusEvaluation(first.plans, first.store, first.today, interval=first.interval)

    async def evaluate_alone(evaluation: StatusEvaluation) -> int:
        async with pg_runtime.sessions() as session, session.begin():
            return await evaluation.evaluate(session)

    changed = await asyncio.gather(evaluate_alone(first), evaluate_alone(second))
    assert sorted(changed) == [0, len(before)], "one evaluation published every change, the other found none"
    after = await statuses_published(pg_runtime)
    assert after == {target: statuses * 2 for target, statuses in before.items()}
