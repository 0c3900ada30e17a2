"""HTTP API of the reporting service: KPIs as of any date and as known on any time, plan progress with
forecasts, exports, and what late facts changed since a report."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.eventkit.database import statements_alone
from metrology.eventkit.errors import NotFoundError, RuleViolationError
from metrology.reporting.application import kpis
from metrology.reporting.application.answers import AnswerCache, Version, read_version
from metrology.reporting.application.changes import LateFact, late_facts, plan_changes
from metrology.reporting.application.progress import TargetProgress, plan_progress_concurrently, target_progress
from metrology.reporting.domain.calendar import month_ends
from metrology.reporting.domain.forecast import METHOD, METHOD_TEXT
from metrology.reporting.domain.plan import Metric, Plan
from metrology.reporting.entrypoints import exports
from metrology.reporting.entrypoints.access import (
    ReaderTenant,
    answers_busy_as_503,
    plan_named,
    plan_of_tenant,
    plans_of,
)
from metrology.servicekit.validation import Day

router = APIRouter(dependencies=[Depends(answers_busy_as_503)])

AsOf = Annotated[Day | None, Query(description="Count the facts that happened on or before this date (default: today)")]
KnownAt = Annotated[
    str | None,
    Query(
        description="Count only the facts recorded at or before this time (RFC 3339; a date alone: the end of that "
        "day, UTC). Default: everything recorded so far",
        examples=["2026-01-15", "2026-01-15T09:30:00+07:00"],
    ),
]
From = Annotated[
    Day | None,
    Query(alias="from", description="Count only facts dated on or after this date (demand coverage: period start)"),
]
Breakdowns = Annotated[
    bool,
    Query(
        description="Answer the breakdowns too (per course, commune, provider, ...). `false` answers the value and "
        "its details alone, at a fraction of the cost: what a tile, a monitor or an integrator polling the number "
        "needs"
    ),
]


class KpiValue(BaseModel):
    metric: str
    tenant: str
    as_of: date
    known_at: datetime | None = None
    defined_by: str | None = Field(
        None,
        description="The plan's target whose region and criteria define this KPI (the same count as the target's)",
    )
    value: float
    details: dict[str, Any] = Field(default_factory=dict)
    breakdowns: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)


class Point(BaseModel):
    date: date
    value: float


class KpiSeries(BaseModel):
    metric: str
    tenant: str
    known_at: datetime | None = None
    defined_by: str | None = Field(
        None,
        description="The plan's target whose region and criteria define this KPI (the same count as the target's)",
    )
    points: list[Point]


class ForecastOut(BaseModel):
    value: float
    low: float
    high: float
    slope_per_month: float
    points: int
    method: str = METHOD
    method_text: dict[str, str] = Field(
        default_factory=lambda: dict(METHOD_TEXT), description="The method in each language (vi, en)"
    )


class TargetOut(BaseModel):
    id: str
    title: dict[str, str]
    metric: str
    comparison: str
    threshold: float
    deadline: date
    window: dict[str, date]
    as_of: date
    value: float
    progress: float = Field(description="value / threshold")
    status: str = Field(description="not-started (before its counting window) | on-track | at-risk | met | missed")
    forecast: ForecastOut | None
    details: dict[str, Any]
    breakdowns: dict[str, list[dict[str, Any]]]
    series: list[Point]


class PlanProgressOut(BaseModel):
    plan_id: str
    tenant: str
    title: dict[str, str]
    as_of: date
    known_at: datetime | None = Field(None, description="Facts recorded after this time were left out")
    targets: list[TargetOut]


class LateFactOut(BaseModel):
    kind: str
    key: dict[str, str]
    business_date: date = Field(description="When it happened (the event's occurred_on)")
    recorded_at: datetime = Field(description="When the platform recorded it (the event's time)")
    metrics: list[str]


class ChangesOut(BaseModel):
    tenant: str
    as_of: date
    since_known_at: datetime
    known_at: datetime | None
    facts: list[LateFactOut]


class TargetChangeOut(BaseModel):
    id: str
    metric: str
    value_then: float
    value_now: float
    status_then: str
    status_now: str


class PlanChangesOut(ChangesOut):
    plan_id: str
    targets: list[TargetChangeOut]


class PlanOut(BaseModel):
    id: str
    tenant: str
    title: dict[str, str]
    decision: str | None
    targets: list[dict[str, Any]]


@router.get("/plans", response_model=list[PlanOut], tags=["plans"], summary="The plans loaded, with their targets")
async def list_plans(request: Request, tenant: ReaderTenant) -> list[PlanOut]:
    return [
        PlanOut(
            id=p.id,
            tenant=p.tenant,
            title=p.title.model_dump(),
            decision=p.decision,
            targets=[t.model_dump(mode="json", by_alias=True) for t in p.targets],
        )
        for p in plans_of(request)
        if p.tenant == tenant
    ]


@router.get(
    "/plans/{plan_id}/progress",
    response_model=PlanProgressOut,
    tags=["plans"],
    summary="Every target of a plan as of a date: value, progress, status, forecast, monthly series, breakdowns",
)
async def get_plan_progress(
    request: Request, plan_id: str, tenant: ReaderTenant, as_of: AsOf = None, known_at: KnownAt = None
) -> PlanProgressOut:
    plan = plan_named(request, plan_id, tenant)
    day = as_of or date.today()
    known = parse_known_at(known_at)
    results = await cached_plan_progress(request, plan, day, known_at=known)
    return PlanProgressOut(
        plan_id=plan.id,
        tenant=plan.tenant,
        title=plan.title.model_dump(),
        as_of=day,
        known_at=known,
        targets=[target_out(r, day) for r in results],
    )


@router.get(
    "/plans/{plan_id}/targets/{target_id}",
    response_model=TargetOut,
    tags=["plans"],
    summary="One target as of a date",
)
async def get_target(
    request: Request, plan_id: str, target_id: str, tenant: ReaderTenant, as_of: AsOf = None, known_at: KnownAt = None
) -> TargetOut:
    plan = plan_named(request, plan_id, tenant)
    target = plan.target(target_id)
    if target is None:
        raise NotFoundError(f"plan '{plan_id}' has no target '{target_id}'", field="target_id")
    day = as_of or date.today()
    known = parse_known_at(known_at)

    async def compute(connection: AsyncConnection) -> TargetProgress:
        return await target_progress(connection, plan, target, day, known_at=known)

    engine = request.app.state.runtime.engine
    key = ("target", plan.id, target.id, day, known, await former_versions(request, plan))
    return target_out(await answers_of(request).answer(engine, plan.tenant, key, compute), day)


@router.get(
    "/plans/{plan_id}/report.{fmt}",
    tags=["exports"],
    summary="The progress report as of a date: CSV (one row per target) or XLSX (one sheet per target)",
    responses={200: {"content": {exports.CSV: {}, exports.XLSX: {}}}},
)
async def get_report(
    request: Request,
    plan_id: str,
    fmt: exports.Format,
    tenant: ReaderTenant,
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> Response:
    plan = plan_named(request, plan_id, tenant)
    day = as_of or date.today()
    known = parse_known_at(known_at)
    results = await cached_plan_progress(request, plan, day, known_at=known)
    content, media_type = exports.render(fmt, plan, day, results, known_at=known)
    suffix = f"-known-{known.strftime('%Y%m%dT%H%M%SZ')}" if known else ""
    filename = f"{plan.id}-{day.isoformat()}{suffix}.{fmt.value}"
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get(
    "/kpis/{metric}",
    response_model=KpiValue,
    tags=["kpis"],
    summary="One KPI as of a date, with its details (unique counts, channels) and breakdowns",
)
async def get_kpi(
    request: Request,
    metric: Metric,
    tenant: ReaderTenant,
    as_of: AsOf = None,
    start: From = None,
    known_at: KnownAt = None,
    breakdowns: Breakdowns = True,
) -> KpiValue:
    day = as_of or date.today()
    _check_period(start, day)
    scope, defined_by = _scope(request, tenant, metric, start, parse_known_at(known_at))

    async def compute(connection: AsyncConnection) -> kpis.Reading:
        return await kpis.read(connection, metric, scope, day, breakdowns=breakdowns)

    engine = request.app.state.runtime.engine
    key = ("kpi", metric.value, scope, day, breakdowns)
    reading = await answers_of(request).answer(engine, tenant, key, compute)
    return KpiValue(
        metric=metric.value,
        tenant=tenant,
        as_of=reading.as_of,
        known_at=scope.known_at,
        defined_by=defined_by,
        value=reading.value,
        details=reading.details,
        breakdowns=reading.breakdowns,
    )


@router.get(
    "/kpis/{metric}/series",
    response_model=KpiSeries,
    tags=["kpis"],
    summary="A KPI's value at the end of every month from `from` to `as_of`",
)
async def get_kpi_series(
    request: Request,
    metric: Metric,
    tenant: ReaderTenant,
    start: Annotated[Day, Query(alias="from", description="First month of the series")],
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> KpiSeries:
    day = as_of or date.today()
    _check_period(start, day)
    if (day.year - start.year) * 12 + day.month - start.month > 240:
        raise RuleViolationError("a series covers at most 240 months", field="from", rule="series-length")
    scope, defined_by = _scope(request, tenant, metric, None, parse_known_at(known_at))
    days = month_ends(start, day)

    async def compute(connection: AsyncConnection) -> list[float]:
        return await kpis.series_values(connection, metric, scope, days)

    engine = request.app.state.runtime.engine
    key = ("series", metric.value, scope, start, day)
    values = await answers_of(request).answer(engine, tenant, key, compute)
    points = [Point(date=point, value=value) for point, value in zip(days, values, strict=True)]
    return KpiSeries(metric=metric.value, tenant=tenant, known_at=scope.known_at, defined_by=defined_by, points=points)


@router.get(
    "/changes",
    response_model=ChangesOut,
    tags=["kpis"],
    summary="Late facts: dated on or before `as_of`, recorded after `since_known_at` (and by `known_at`)",
)
async def get_changes(
    request: Request,
    tenant: ReaderTenant,
    since_known_at: Annotated[str, Query(min_length=1, description="When the earlier report was made (as `known_at`)")],
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> ChangesOut:
    day = as_of or date.today()
    since, until = _since_and_until(since_known_at, known_at)
    async with request.app.state.runtime.engine.connect() as connection:
        facts = await late_facts(connection, tenant, day, since, until)
    return ChangesOut(
        tenant=tenant, as_of=day, since_known_at=since, known_at=until, facts=[_late_fact_out(f) for f in facts]
    )


@router.get(
    "/plans/{plan_id}/changes",
    response_model=PlanChangesOut,
    tags=["plans"],
    summary="What changed since a report: each target then and now, and the late facts that changed it",
)
async def get_plan_changes(
    request: Request,
    plan_id: str,
    tenant: ReaderTenant,
    since_known_at: Annotated[str, Query(min_length=1, description="When the earlier report was made (as `known_at`)")],
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> PlanChangesOut:
    plan = plan_named(request, plan_id, tenant)
    day = as_of or date.today()
    since, until = _since_and_until(since_known_at, known_at)
    async with request.app.state.runtime.engine.connect() as connection:
        changes = await plan_changes(connection, plan, day, since, until)
    return PlanChangesOut(
        plan_id=plan.id,
        tenant=plan.tenant,
        as_of=day,
        since_known_at=since,
        known_at=until,
        targets=[
            TargetChangeOut(
                id=t.target_id,
                metric=t.metric,
                value_then=t.value_then,
                value_now=t.value_now,
                status_then=t.status_then,
                status_now=t.status_now,
            )
            for t in changes.targets
        ],
        facts=[_late_fact_out(f) for f in changes.facts],
    )


def parse_known_at(value: str | None, field: str = "known_at") -> datetime | None:
    """An RFC 3339 time (UTC when it names no offset), or a date alone meaning the end of that day in UTC."""
    if value is None or value == "":
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time.max, UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RuleViolationError(
            f"'{field}' is not a date or an RFC 3339 time: {value!r}", field=field, rule="recording-time"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _since_and_until(since_known_at: str, known_at: str | None) -> tuple[datetime, datetime | None]:
    since = parse_known_at(since_known_at, "since_known_at")
    assert since is not None
    until = parse_known_at(known_at)
    if until is not None and until < since:
        raise RuleViolationError(
            "'known_at' is before 'since_known_at'", field="known_at", rule="recording-period-order"
        )
    return since, until


def _late_fact_out(fact: LateFact) -> LateFactOut:
    return LateFactOut(
        kind=fact.kind,
        key=fact.key,
        business_date=fact.business_date,
        recorded_at=fact.recorded_at,
        metrics=list(fact.metrics),
    )


def answers_of(request: Request) -> AnswerCache:
    """The process's cache of computed answers (bootstrap sets one; an app built otherwise gets one here)."""
    runtime = request.app.state.runtime
    cache = getattr(runtime, "answers", None)
    if cache is None:
        cache = runtime.answers = AnswerCache()
    return cache  # type: ignore[no-any-return]


async def cached_plan_progress(
    request: Request, plan: Plan, day: date, *, breakdowns: bool = True, known_at: datetime | None = None
) -> list[TargetProgress]:
    """Every target of the plan as of `day` (as known at `known_at`), from the cache at the tenant's read-model
    version or computed."""
    engine = request.app.state.runtime.engine
    answers = answers_of(request)

    async def compute(connection: AsyncConnection) -> list[TargetProgress]:
        # the targets spread over the cache's lanes (connections); at most `computations` run at once, so a crowd
        # of readers cannot drain the pool
        return await plan_progress_concurrently(
            engine, connection, plan, day, lanes=answers.lanes, breakdowns=breakdowns, known_at=known_at
        )

    key = ("progress", plan.id, day, breakdowns, known_at, await former_versions(request, plan))
    return await answers.answer(engine, plan.tenant, key, compute)


async def former_versions(request: Request, plan: Plan) -> tuple[Version, ...]:
    """The read-model versions of the former provinces a merged plan rolls up (the cache is kept by the plan
    tenant's version; a rolled-up answer also changes with theirs). Empty for a plan that rolls up nothing."""
    if not plan.rolls_up:
        return ()
    async with request.app.state.runtime.engine.connect() as connection:
        alone = await statements_alone(connection)
        return tuple([await read_version(alone, former.tenant) for former in plan.rolls_up])


def _check_period(start: date | None, as_of: date) -> None:
    if start is not None and start > as_of:
        raise RuleViolationError(
            f"'from' ({start.isoformat()}) is after 'as_of' ({as_of.isoformat()})", field="from", rule="period-order"
        )


def _scope(
    request: Request, tenant: str, metric: Metric, start: date | None, known_at: datetime | None = None
) -> tuple[kpis.Scope, str | None]:
    """The KPI as the tenant's plan defines it (the region and criteria of its target on the metric, so a KPI and
    its target agree on the same date), over the requested period; and the id of that target."""
    plan = plan_of_tenant(request, tenant)
    target = plan.defining_target(metric) if plan else None
    if plan is None or target is None:
        provinces = plan.region.provinces if plan else ()
        return kpis.Scope(tenant, start=start, provinces=provinces, known_at=known_at), None
    region = plan.region_of(target)
    scope = kpis.Scope(
        tenant,
        start=start,
        provinces=region.provinces or plan.region.provinces,
        communes=region.communes,
        criteria=target.criteria,
        known_at=known_at,
    )
    return scope, target.id


def target_out(result: TargetProgress, as_of: date) -> TargetOut:
    t = result.target
    f = result.forecast
    return TargetOut(
        id=t.id,
        title=t.title.model_dump(),
        metric=t.metric.value,
        comparison=t.comparison.value,
        threshold=t.threshold,
        deadline=t.deadline,
        window={"from": t.window.start, "to": t.window.end},
        as_of=result.reading.as_of,
        value=result.reading.value,
        progress=result.progress,
        status=result.status.value,
        forecast=ForecastOut(value=f.value, low=f.low, high=f.high, slope_per_month=f.slope_per_month, points=f.points)
        if f
        else None,
        details=result.reading.details,
        breakdowns=result.reading.breakdowns,
        series=[Point(date=d, value=v) for d, v in result.series],
    )
