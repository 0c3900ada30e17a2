"""The national view: every KPI across the tenants a deployment serves, by former province (each tenant is a
province as it was before 2025-07-01) and by the province it is part of now (refdata's administrative units)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.refdata.admin_units import administrative_units
from metrology.reporting.adapters.readmodel import read_model_versions
from metrology.reporting.application import kpis
from metrology.reporting.domain.plan import Metric, Plan


@dataclass(frozen=True, slots=True)
class Part:
    province_code: str
    name: str
    value: float
    details: dict[str, object]
    former: tuple[str, ...] = ()  # for a province now: the tenants (former provinces) added up in it
    part_of: str | None = None  # for a former province: the province it is part of on the date


@dataclass(slots=True)
class NationalReading:
    metric: Metric
    value: float
    details: dict[str, object]
    by_former_province: list[Part] = field(default_factory=list)
    by_province: list[Part] = field(default_factory=list)


async def served_tenants(connection: AsyncConnection, plans: list[Plan]) -> list[str]:
    """The tenants of the loaded plans and those the read model holds facts of."""
    rows = await connection.execute(sa.select(read_model_versions.c.tenant))
    return sorted({plan.tenant for plan in plans} | {str(row.tenant) for row in rows})


def tenant_scope(tenant: str, plans: list[Plan], as_of: date, known_at: datetime | None) -> kpis.Scope:
    """A tenant's KPIs as its own plan region counts them, else within its province and the one it is part of."""
    plan = next((p for p in plans if p.tenant == tenant), None)
    provinces = plan.region.provinces if plan and plan.region.provinces else None
    if provinces is None:
        provinces = tuple(dict.fromkeys([tenant, administrative_units().successor(tenant, as_of)]))
    return kpis.Scope(tenant, provinces=provinces, known_at=known_at)


async def national(
    connection: AsyncConnection, plans: list[Plan], as_of: date, known_at: datetime | None = None
) -> list[NationalReading]:
    units = administrative_units()
    tenants = await served_tenants(connection, plans)
    scopes = [tenant_scope(t, plans, as_of, known_at) for t in tenants]
    readings = []
    for metric in Metric:
        parts = [await kpis.read(connection, metric, scope, as_of, breakdowns=False) for scope in scopes]
        if not parts:
            readings.append(NationalReading(metric, 0.0, {}))
            continue
        total = kpis.combine(metric, parts)
        reading = NationalReading(metric, total.value, total.details)
        groups: dict[str, list[tuple[str, kpis.Reading]]] = {}
        for tenant, part in zip(tenants, parts, strict=True):
            now = units.successor(tenant, as_of)
            groups.setdefault(now, []).append((tenant, part))
            reading.by_former_province.append(Part(tenant, _name(tenant), part.value, part.details, part_of=now))
        for code, members in sorted(groups.items()):
            combined = kpis.combine(metric, [p for _, p in members])
            former = tuple(t for t, _ in members)
            reading.by_province.append(Part(code, _name(code, as_of), combined.value, combined.details, former))
        readings.append(reading)
    return readings


def _name(code: str, on: date | None = None) -> str:
    units = administrative_units()
    rows = [p for p in units.provinces if p.code == code and (on is None or p.in_force_on(on))]
    if not rows and on is not None:
        rows = [p for p in units.provinces if p.code == code]
    return rows[0].name_vi if rows else code
