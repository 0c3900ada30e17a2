"""Progress of a plan's targets as of a date (and as known on a time): value, monthly series, forecast, status."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from metrology.reporting.application import kpis
from metrology.reporting.domain.calendar import add_months, month_ends
from metrology.reporting.domain.forecast import Forecast, forecast
from metrology.reporting.domain.plan import Plan, Status, Target
from metrology.reporting.domain.status import CUMULATIVE, progress, target_status

T = TypeVar("T")


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


# Answers computed (or being computed) for a page, by what they depend on. Two targets of one plan often ask the
# same: the same metric, window start and region, with window ends that are both past D (a target to 2025 and one
# to 2030). The readings and series count up to the day `Scope.day` gives, so they are keyed by that day, not the
# window end. Each is a future: targets computed at the same time wait for the one already under way.
Computed = dict[tuple[object, ...], "asyncio.Future[Any]"]


async def _once(computed: Computed | None, key: tuple[object, ...], compute: Callable[[], Awaitable[T]]) -> T:
    """`compute()`, unless `computed` has it (or has it under way): then its answer, computed once."""
    if computed is None:
        return await compute()
    known = computed.get(key)
    if known is not None:
        return cast(T, await known)
    future = computed[key] = asyncio.get_running_loop().create_future()
    try:
        value = await compute()
    except asyncio.CancelledError:
        future.cancel()  # its waiters are cancelled with it
        raise
    except Exception as error:
        future.set_exception(error)
        future.exception()  # its waiters raise it; with none, nothing is left unretrieved
        raise
    future.set_result(value)
    return value


def _key(kind: str, metric: object, scopes: list[kpis.Scope], days: list[date], breakdowns: bool) -> tuple[object, ...]:
    parts = tuple((s.tenant, s.start, s.provinces, s.communes, s.criteria, s.known_at) for s in scopes)
    counted = tuple(tuple(s.day(d) for d in days) for s in scopes)
    return (kind, metric, parts, counted, breakdowns)


async def series(
    connection: AsyncConnection,
    plan: Plan,
    target: Target,
    as_of: date,
    *,
    months: int | None = None,
    known_at: datetime | None = None,
    computed: Computed | None = None,
) -> list[tuple[date, float]]:
    """The target's value at the end of every month of its window (or of its last `months`), up to D."""
    scope = kpis.Scope.of_target(plan, target, known_at)
    end = scope.day(as_of)
    if end < target.window.start:
        return []
    start = target.window.start if months is None else max(target.window.start, add_months(end, -months))
    days = month_ends(start, end)
    scopes = scopes_of(plan, target, known_at) if target.roll_up is not None else [scope]
    key = _key(f"series:{target.roll_up is not None}", target.metric, scopes, days, False)

    async def compute() -> list[float]:
        if target.roll_up is not None:
            return await kpis.series_rolled_up(connection, target.metric, scopes, days)
        return await kpis.series_values(connection, target.metric, scope, days)

    values = await _once(computed, key, compute)
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
    computed: Computed | None = None,
) -> TargetProgress:
    """`months` limits the series to the last months (the forecast reads the last twelve); `known_at` counts
    only the facts recorded by then; `computed` holds the answers already computed for other targets of the page
    (and gets this one's)."""
    rolled = target.roll_up is not None
    scopes = scopes_of(plan, target, known_at) if rolled else [kpis.Scope.of_target(plan, target, known_at)]
    key = _key(f"read:{rolled}", target.metric, scopes, [as_of], breakdowns)

    async def compute() -> kpis.Reading:
        if rolled:
            return await kpis.read_rolled_up(connection, target.metric, scopes, as_of, breakdowns=breakdowns)
        return await kpis.read(connection, target.metric, scopes[0], as_of, breakdowns=breakdowns)

    reading = await _once(computed, key, compute)
    points = await series(connection, plan, target, as_of, months=months, known_at=known_at, computed=computed)
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
    computed: Computed = {}  # targets asking what another already asked get the same answer
    return [
        await target_progress(connection, plan, t, as_of, breakdowns=breakdowns, known_at=known_at, computed=computed)
        for t in plan.targets
    ]


async def plan_progress_concurrently(
    engine: AsyncEngine,
    connection: AsyncConnection,
    plan: Plan,
    as_of: date,
    *,
    lanes: int = 2,
    breakdowns: bool = True,
    known_at: datetime | None = None,
) -> list[TargetProgress]:
    """`plan_progress` on `lanes` connections at once: `connection` and `lanes - 1` more from `engine`, each lane
    taking the plan's next target when it is done with one (PostgreSQL only; on SQLite, or with one lane, the
    targets run one after another on `connection`). The results keep the plan's order. What two targets both ask is
    computed once, on the lane of the first to ask; the other waits for it (a lane computing an answer never waits
    for another, so no two lanes wait on each other)."""
    if engine.dialect.name != "postgresql" or lanes < 2:
        return await plan_progress(connection, plan, as_of, breakdowns=breakdowns, known_at=known_at)
    computed: Computed = {}
    results: dict[int, TargetProgress] = {}
    targets = iter(enumerate(plan.targets))  # shared: each lane takes the next target in the plan's order

    async def lane(on: AsyncConnection) -> None:
        for index, target in targets:
            results[index] = await target_progress(
                on, plan, target, as_of, breakdowns=breakdowns, known_at=known_at, computed=computed
            )

    async def lane_of_its_own() -> None:
        async with engine.connect() as other:
            await lane(other)

    await asyncio.gather(lane(connection), *(lane_of_its_own() for _ in range(lanes - 1)))
    return [results[index] for index in range(len(plan.targets))]
