"""Target statuses with an evaluation interval: batches inside the interval are not evaluated at once, and what
they touched is evaluated once the interval has passed, in a transaction of its own, without a status twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date

import pytest
import scripted_year
import sqlalchemy as sa
from scripted_year import FakeRecord

from metrology.eventkit.projector import ProjectorRunner
from metrology.reporting.adapters import readmodel as rm
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


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[ServiceRuntime]:
    settings = ReportingSettings(
        service_name="reporting",
        database_url=database_url,
        evaluation_date=date(2025, 12, 31),
        evaluation_interval=3600,
    )
    rt = bootstrap(settings)
    await rt.migrate()
    yield rt
    await rt.dispose()


def evaluation_of(runtime: ServiceRuntime) -> StatusEvaluation:
    projection = runtime.subscriptions[0].projection
    assert isinstance(projection, KpiProjection) and isinstance(projection.evaluation, StatusEvaluation)
    return projection.evaluation


async def fold_the_year(runtime: ServiceRuntime) -> None:
    runner = ProjectorRunner(runtime.sessions, runtime.subscriptions[0].projection, NoDeadLetters())
    records = [FakeRecord(e.to_json()) for e in scripted_year.build().envelopes()]
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


async def test_batches_inside_the_interval_are_evaluated_once_after_it_not_with_each_batch(runtime, monkeypatch):
    evaluation = evaluation_of(runtime)
    calls: list[set[object]] = []
    evaluate = evaluation.evaluate

    async def counted(session, metrics=None):
        calls.append(set(metrics) if metrics is not None else {"all"})
        return await evaluate(session, metrics)

    monkeypatch.setattr(evaluation, "evaluate", counted)
    await fold_the_year(runtime)
    assert len(calls) == 1, "only the first batch was evaluated: the others fell inside the interval"

    async def evaluated_again() -> bool:
        return len(calls) >= 2

    await run_trailing_until(runtime, evaluated_again)
    assert len(calls) == 2, "what the batches touched was evaluated once; with nothing new, not again"
    assert calls[1], "the trailing evaluation looked at the metrics the batches touched"


async def test_statuses_left_behind_are_published_once_each_by_the_trailing_evaluation(runtime):
    await fold_the_year(runtime)
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
