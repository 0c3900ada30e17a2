"""The national view over HTTP: every KPI across the tenants the deployment serves, by former and current province."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from metrology.reporting.application.national import Part, national
from metrology.reporting.entrypoints.access import ReaderTenant, plans_of
from metrology.reporting.entrypoints.http import AsOf, KnownAt, parse_known_at

router = APIRouter(tags=["kpis"])


class PartOut(BaseModel):
    province_code: str
    name: str
    value: float
    details: dict[str, Any] = Field(default_factory=dict)
    former: list[str] = Field(default_factory=list, description="For a province now: the former provinces in it")
    part_of: str | None = Field(None, description="For a former province: the province it is part of on as_of")


class NationalKpiOut(BaseModel):
    metric: str
    value: float = Field(description="Counts added over the tenants; a share recomputed from their met and demand")
    details: dict[str, Any]
    by_former_province: list[PartOut]
    by_province: list[PartOut]


class NationalOut(BaseModel):
    as_of: date
    known_at: datetime | None
    tenants: list[str]
    kpis: list[NationalKpiOut]


@router.get(
    "/national",
    response_model=NationalOut,
    summary="Every KPI across the tenants the deployment serves: in total, by former province, by province now",
)
async def get_national(request: Request, _: ReaderTenant, as_of: AsOf = None, known_at: KnownAt = None) -> NationalOut:
    day = as_of or date.today()
    known = parse_known_at(known_at)
    async with request.app.state.runtime.engine.connect() as connection:
        readings = await national(connection, plans_of(request), day, known)
    tenants = [p.province_code for p in readings[0].by_former_province] if readings else []
    return NationalOut(
        as_of=day,
        known_at=known,
        tenants=tenants,
        kpis=[
            NationalKpiOut(
                metric=r.metric.value,
                value=r.value,
                details=r.details,
                by_former_province=[_part(p) for p in r.by_former_province],
                by_province=[_part(p) for p in r.by_province],
            )
            for r in readings
        ],
    )


def _part(part: Part) -> PartOut:
    return PartOut(
        province_code=part.province_code,
        name=part.name,
        value=part.value,
        details=dict(part.details),
        former=list(part.former),
        part_of=part.part_of,
    )
