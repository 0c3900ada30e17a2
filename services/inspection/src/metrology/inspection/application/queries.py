"""Read-side queries: plans, campaigns, visits with their record, findings, follow-ups and a yearly summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.eventkit.errors import NotFoundError
from metrology.inspection.adapters.tables import (
    campaigns,
    decisions,
    findings,
    follow_ups,
    inspection_plans,
    violations,
    visits,
)


@dataclass(frozen=True)
class Page:
    limit: int = 50
    offset: int = 0


async def page(
    connection: AsyncConnection,
    table: sa.Table,
    tenant: str,
    page: Page,
    order_by: list[sa.ColumnElement[Any]],
    *where: sa.ColumnElement[bool],
) -> dict[str, Any]:
    conditions = [table.c.tenant == tenant, *where]
    total = (await connection.execute(sa.select(sa.func.count()).select_from(table).where(*conditions))).scalar_one()
    query = sa.select(table).where(*conditions).order_by(*order_by).limit(page.limit).offset(page.offset)
    items = [_public(row) for row in await connection.execute(query)]
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


async def plans_page(connection: AsyncConnection, tenant: str, p: Page) -> dict[str, Any]:
    order = [inspection_plans.c.year.desc(), inspection_plans.c.plan_id]
    return await page(connection, inspection_plans, tenant, p, order)


async def campaigns_page(connection: AsyncConnection, tenant: str, p: Page, plan_id: str | None) -> dict[str, Any]:
    where = [campaigns.c.plan_id == plan_id] if plan_id else []
    return await page(connection, campaigns, tenant, p, [campaigns.c.starts_on, campaigns.c.campaign_id], *where)


async def visits_page(connection: AsyncConnection, tenant: str, p: Page, campaign_id: str | None) -> dict[str, Any]:
    where = [visits.c.campaign_id == campaign_id] if campaign_id else []
    return await page(connection, visits, tenant, p, [visits.c.visited_on, visits.c.visit_id], *where)


async def findings_page(
    connection: AsyncConnection, tenant: str, p: Page, defect: str | None, registry_status: str | None
) -> dict[str, Any]:
    where: list[sa.ColumnElement[bool]] = []
    if registry_status:
        where.append(findings.c.registry_status == registry_status)
    if defect:  # JSON lists: matched on their text, the same on SQLite and PostgreSQL
        where.append(sa.cast(findings.c.defects, sa.String).contains(f'"{defect}"'))
    return await page(connection, findings, tenant, p, [findings.c.found_on, findings.c.finding_id], *where)


async def follow_ups_page(connection: AsyncConnection, tenant: str, p: Page, due_by: date | None) -> dict[str, Any]:
    where = [follow_ups.c.due_on <= due_by] if due_by else []
    return await page(connection, follow_ups, tenant, p, [follow_ups.c.due_on, follow_ups.c.order_id], *where)


async def one(connection: AsyncConnection, table: sa.Table, key: str, value: str, tenant: str) -> dict[str, Any]:
    """A row of the caller's province, or 404 (another province's is not known here)."""
    row = (await connection.execute(sa.select(table).where(table.c[key] == value, table.c.tenant == tenant))).first()
    if row is None:
        raise NotFoundError(f"no {key.removesuffix('_id')} {value}", field=key)
    return _public(row)


async def visit_record(connection: AsyncConnection, tenant: str, visit_id: str) -> dict[str, Any]:
    """The visit with everything its record (biên bản) holds."""
    visit = await one(connection, visits, "visit_id", visit_id, tenant)
    for name, table, order in [
        ("finding_items", findings, findings.c.finding_id),
        ("violation_items", violations, violations.c.violation_id),
        ("decision_items", decisions, decisions.c.decision_id),
        ("follow_up_items", follow_ups, follow_ups.c.order_id),
    ]:
        rows = await connection.execute(sa.select(table).where(table.c.visit_id == visit_id).order_by(order))
        visit[name] = [_public(row) for row in rows]
    return visit


async def summary(connection: AsyncConnection, tenant: str, year: int) -> dict[str, Any]:
    """A year in figures, as the province reports it: visits, findings by defect, violations, decisions, fines."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    visited = (
        await connection.execute(
            sa.select(sa.func.count()).where(visits.c.tenant == tenant, visits.c.visited_on.between(start, end))
        )
    ).scalar_one()
    rows = await connection.execute(
        sa.select(findings.c.defects, findings.c.registry_status).where(
            findings.c.tenant == tenant, findings.c.found_on.between(start, end)
        )
    )
    by_defect: dict[str, int] = {}
    items = compliant = 0
    for defects, _ in rows:
        items += 1
        compliant += int(not defects)
        for defect in defects:
            by_defect[defect] = by_defect.get(defect, 0) + 1
    fines = await connection.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(decisions.c.fine_vnd), 0)).where(
            decisions.c.tenant == tenant, decisions.c.issued_on.between(start, end)
        )
    )
    decided, fined = fines.one()
    violated = (
        await connection.execute(
            sa.select(sa.func.count()).where(
                violations.c.tenant == tenant, violations.c.recorded_on.between(start, end)
            )
        )
    ).scalar_one()
    ordered = (
        await connection.execute(
            sa.select(sa.func.count()).where(follow_ups.c.tenant == tenant, follow_ups.c.ordered_on.between(start, end))
        )
    ).scalar_one()
    return {
        "year": year,
        "visits": visited,
        "items_inspected": items,
        "items_compliant": compliant,
        "findings_by_defect": dict(sorted(by_defect.items())),
        "violations": violated,
        "decisions": decided,
        "fines_vnd": int(fined),
        "follow_up_verifications_ordered": ordered,
    }


def _public(row: sa.Row) -> dict[str, Any]:
    return {k: v for k, v in row._mapping.items() if k != "tenant"}
