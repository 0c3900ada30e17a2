"""HTTP API of the reporting service: KPIs as of any date, plan progress with forecasts, exports."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.eventkit.errors import NotFoundError, RuleViolationError
from metrology.reporting.application import kpis
from metrology.reporting.application.answers import AnswerCache
from metrology.reporting.application.progress import TargetProgress, plan_progress_concurrently, target_progress
from metrology.reporting.domain.calendar import month_ends
from metrology.reporting.domain.forecast import METHOD
from metrology.reporting.domain.plan import Metric, Plan
from metrology.reporting.entrypoints import exports
from metrology.reporting.entrypoints.access import ReaderTenant, plan_named, plan_of_tenant, plans_of

router = APIRouter()

AsOf = Annotated[
    date | None, Query(description="Count the facts that happened on or before this date (default: today)")
]
From = Annotated[
    date | None,
    Query(alias="from", description="Count only facts dated on or after this date (demand coverage: period start)"),
]


class KpiValue(BaseModel):
    metric: str
    tenant: str
    as_of: date
    value: float
    details: dict[str, Any] = Field(default_factory=dict)
    breakdowns: dict[str, list[dict[str, Any]]] = Field(default_factory=dict)


class Point(BaseModel):
    date: date
    value: float


class KpiSeries(BaseModel):
    metric: str
    tenant: str
    points: list[Point]


class ForecastOut(BaseModel):
    value: float
    low: float
    high: float
    slope_per_month: float
    points: int
    method: str = METHOD


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
    status: str = Field(description="on-track | at-risk | met")
    forecast: ForecastOut | None
    details: dict[str, Any]
    breakdowns: dict[str, list[dict[str, Any]]]
    series: list[Point]


class PlanProgressOut(BaseModel):
    plan_id: str
    tenant: str
    title: dict[str, str]
    as_of: date
    targets: list[TargetOut]


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
    request: Request, plan_id: str, tenant: ReaderTenant, as_of: AsOf = None
) -> PlanProgressOut:
    plan = plan_named(request, plan_id, tenant)
    day = as_of or date.today()
    results = await cached_plan_progress(request, plan, day)
    return PlanProgressOut(
        plan_id=plan.id,
        tenant=plan.tenant,
        title=plan.title.model_dump(),
        as_of=day,
        targets=[target_out(r, day) for r in results],
    )


@router.get(
    "/plans/{plan_id}/targets/{target_id}",
    response_model=TargetOut,
    tags=["plans"],
    summary="One target as of a date",
)
async def get_target(
    request: Request, plan_id: str, target_id: str, tenant: ReaderTenant, as_of: AsOf = None
) -> TargetOut:
    plan = plan_named(request, plan_id, tenant)
    target = plan.target(target_id)
    if target is None:
        raise NotFoundError(f"plan '{plan_id}' has no target '{target_id}'", field="target_id")
    day = as_of or date.today()

    async def compute(connection: AsyncConnection) -> TargetProgress:
        return await target_progress(connection, plan, target, day)

    engine = request.app.state.runtime.engine
    key = ("target", plan.id, target.id, day)
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
) -> Response:
    plan = plan_named(request, plan_id, tenant)
    day = as_of or date.today()
    results = await cached_plan_progress(request, plan, day)
    content, media_type = exports.render(fmt, plan, day, results)
    filename = f"{plan.id}-{day.isoformat()}.{fmt.value}"
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
    request: Request, metric: Metric, tenant: ReaderTenant, as_of: AsOf = None, start: From = None
) -> KpiValue:
    day = as_of or date.today()
    _check_period(start, day)
    scope = _scope(request, tenant, start)

    async def compute(connection: AsyncConnection) -> kpis.Reading:
        return await kpis.read(connection, metric, scope, day)

    engine = request.app.state.runtime.engine
    key = ("kpi", metric.value, scope, day)
    reading = await answers_of(request).answer(engine, tenant, key, compute)
    return KpiValue(
        metric=metric.value,
        tenant=tenant,
        as_of=reading.as_of,
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
    start: Annotated[date, Query(alias="from", description="First month of the series")],
    as_of: AsOf = None,
) -> KpiSeries:
    day = as_of or date.today()
    _check_period(start, day)
    if (day.year - start.year) * 12 + day.month - start.month > 240:
        raise RuleViolationError("a series covers at most 240 months", field="from", rule="series-length")
    scope = _scope(request, tenant, None)
    days = month_ends(start, day)

    async def compute(connection: AsyncConnection) -> list[float]:
        return await kpis.series_values(connection, metric, scope, days)

    engine = request.app.state.runtime.engine
    key = ("series", metric.value, scope, start, day)
    values = await answers_of(request).answer(engine, tenant, key, compute)
    points = [Point(date=point, value=value) for point, value in zip(days, values, strict=True)]
    return KpiSeries(metric=metric.value, tenant=tenant, points=points)


def answers_of(request: Request) -> AnswerCache:
    """The process's cache of computed answers (bootstrap sets one; an app built otherwise gets one here)."""
    runtime = request.app.state.runtime
    cache = getattr(runtime, "answers", None)
    if cache is None:
        cache = runtime.answers = AnswerCache()
    return cache  # type: ignore[no-any-return]


async def cached_plan_progress(
    request: Request, plan: Plan, day: date, *, breakdowns: bool = True
) -> list[TargetProgress]:
    """Every target of the plan as of `day`, from the cache at the tenant's read-model version or computed."""
    engine = request.app.state.runtime.engine

    async def compute(connection: AsyncConnection) -> list[TargetProgress]:
        return await plan_progress_concurrently(engine, connection, plan, day, breakdowns=breakdowns)

    key = ("progress", plan.id, day, breakdowns)
    return await answers_of(request).answer(engine, plan.tenant, key, compute)


def _check_period(start: date | None, as_of: date) -> None:
    if start is not None and start > as_of:
        raise RuleViolationError(
            f"'from' ({start.isoformat()}) is after 'as_of' ({as_of.isoformat()})", field="from", rule="period-order"
        )


def _scope(request: Request, tenant: str, start: date | None) -> kpis.Scope:
    plan = plan_of_tenant(request, tenant)
    provinces = plan.region.provinces if plan else ()
    return kpis.Scope(tenant, start=start, provinces=provinces)


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
