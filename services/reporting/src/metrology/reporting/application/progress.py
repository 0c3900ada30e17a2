"""Progress of a plan's targets as of a date (and as known on a time): value, monthly series, forecast, status."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from metrology.reporting.application import kpis
from metrology.reporting.domain.calendar import add_months, month_ends
from metrology.reporting.domain.forecast import Forecast, forecast
from metrology.reporting.domain.plan import Plan, Status, Target
from metrology.reporting.domain.status import CUMULATIVE, progress, target_status


@dataclass(slots=True)
class TargetProgress:
    plan: Plan
    target: Target
    reading: kpis.Reading
    series: list[tuple[date, float]]
    forecast: Forecast | None
    status: Status

    @property
    def progress(self) -> float:
        return progress(self.target, self.reading.value)


async def series(
    connection: AsyncConnection,
    plan: Plan,
    target: Target,
    as_of: date,
    *,
    months: int | None = None,
    known_at: datetime | None = None,
) -> list[tuple[date, float]]:
    """The target's value at the end of every month of its window (or of its last `months`), up to D."""
    scope = kpis.Scope.of_target(plan, target, known_at)
    end = scope.day(as_of)
    if end < target.window.start:
        return []
    start = target.window.start if months is None else max(target.window.start, add_months(end, -months))
    days = month_ends(start, end)
    if target.roll_up is not None:
        values = await kpis.series_rolled_up(connection, target.metric, scopes_of(plan, target, known_at), days)
    else:
        values = await kpis.series_values(connection, target.metric, scope, days)
    return list(zip(days, values, strict=True))


def scopes_of(plan: Plan, target: Target, known_at: datetime | None = None) -> list[kpis.Scope]:
    """The target's scope for each tenant it counts (one, unless it rolls up former provinces)."""
    scope = kpis.Scope.of_target(plan, target, known_at)
    return [replace(scope, tenant=tenant) for tenant in plan.tenants_of(target)]


async def target_progress(
    connection: AsyncConnection,
    plan: Plan,
    target: Target,
    as_of: date,
    *,
    breakdowns: bool = True,
    months: int | None = None,
    known_at: datetime | None = None,
) -> TargetProgress:
    """`months` limits the series to the last months (the forecast reads the last twelve); `known_at` counts
    only the facts recorded by then."""
    if target.roll_up is not None:
        scopes = scopes_of(plan, target, known_at)
        reading = await kpis.read_rolled_up(connection, target.metric, scopes, as_of, breakdowns=breakdowns)
    else:
        scope = kpis.Scope.of_target(plan, target, known_at)
        reading = await kpis.read(connection, target.metric, scope, as_of, breakdowns=breakdowns)
    points = await series(connection, plan, target, as_of, months=months, known_at=known_at)
    floor = reading.value if target.metric in CUMULATIVE else 0.0
    ceiling = 1.0 if target.metric.is_share else None
    projected = forecast(points, target.deadline, floor=floor, ceiling=ceiling)
    status = target_status(target, reading.value, projected, as_of)
    return TargetProgress(plan, target, reading, points, projected, status)


async def plan_progress(
    connection: AsyncConnection,
    plan: Plan,
    as_of: date,
    *,
    breakdowns: bool = True,
    known_at: datetime | None = None,
) -> list[TargetProgress]:
    return [
        await target_progress(connection, plan, t, as_of, breakdowns=breakdowns, known_at=known_at)
        for t in plan.targets
    ]


async def plan_progress_concurrently(
    engine: AsyncEngine,
    connection: AsyncConnection,
    plan: Plan,
    as_of: date,
    *,
    breakdowns: bool = True,
    known_at: datetime | None = None,
) -> list[TargetProgress]:
    """`plan_progress` with every target on a connection of its own from `engine`, at the same time (PostgreSQL
    only; on SQLite the targets run one after another on `connection`). The results keep the plan's order."""
    if engine.dialect.name != "postgresql":
        return await plan_progress(connection, plan, as_of, breakdowns=breakdowns, known_at=known_at)

    async def one(target: Target) -> TargetProgress:
        async with engine.connect() as connection:
            return await target_progress(connection, plan, target, as_of, breakdowns=breakdowns, known_at=known_at)

    return list(await asyncio.gather(*(one(t) for t in plan.targets)))
