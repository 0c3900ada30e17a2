"""Read-side queries over outreach's query tables: participations, accesses with unique counts, campaigns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.outreach.adapters.tables import accesses, campaigns, known_enterprises, participations


@dataclass(frozen=True)
class Page:
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class AccessFilter:
    tenant: str
    enterprise_id: str | None = None
    channel: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def _rows(result: sa.Result[Any]) -> list[dict[str, Any]]:
    return [dict(row._mapping) for row in result]


async def participations_page(
    connection: AsyncConnection, tenant: str, page: Page, status: str | None, enterprise_id: str | None
) -> dict[str, Any]:
    p = participations.c
    where = [p.tenant == tenant]
    if status:
        where.append(p.status == status)
    if enterprise_id:
        where.append(p.enterprise_id == enterprise_id)
    total = (await connection.execute(sa.select(sa.func.count()).where(*where))).scalar_one()
    query = sa.select(participations).where(*where).order_by(p.enrolled_on, p.participation_id)
    items = _rows(await connection.execute(query.limit(page.limit).offset(page.offset)))
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


async def participation(connection: AsyncConnection, tenant: str, participation_id: str) -> dict[str, Any] | None:
    query = sa.select(participations).where(
        participations.c.tenant == tenant, participations.c.participation_id == participation_id
    )
    row = (await connection.execute(query)).first()
    return dict(row._mapping) if row else None


async def accesses_page(connection: AsyncConnection, where: AccessFilter, page: Page) -> dict[str, Any]:
    a = accesses.c
    conditions = [a.tenant == where.tenant]
    if where.enterprise_id:
        conditions.append(a.enterprise_id == where.enterprise_id)
    if where.channel:
        conditions.append(a.channel == where.channel)
    if where.date_from:
        conditions.append(a.occurred_on >= where.date_from)
    if where.date_to:
        conditions.append(a.occurred_on <= where.date_to)
    counts = sa.select(sa.func.count(), sa.func.count(sa.distinct(a.enterprise_id))).where(*conditions)
    total, unique = (await connection.execute(counts)).one()
    by_channel = await connection.execute(
        sa.select(a.channel, sa.func.count(), sa.func.count(sa.distinct(a.enterprise_id)))
        .where(*conditions)
        .group_by(a.channel)
        .order_by(a.channel)
    )
    query = sa.select(accesses).where(*conditions).order_by(a.occurred_on, a.access_id)
    items = _rows(await connection.execute(query.limit(page.limit).offset(page.offset)))
    return {
        "items": items,
        "total": total,
        "unique_enterprises": unique,
        "by_channel": [{"channel": c, "accesses": n, "unique_enterprises": u} for c, n, u in by_channel],
        "limit": page.limit,
        "offset": page.offset,
    }


async def campaigns_page(
    connection: AsyncConnection, tenant: str, page: Page, date_from: date | None, date_to: date | None
) -> dict[str, Any]:
    c = campaigns.c
    where = [c.tenant == tenant]
    if date_from:
        where.append(c.held_on >= date_from)
    if date_to:
        where.append(c.held_on <= date_to)
    total, reached = (
        await connection.execute(
            sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(c.enterprises_reached), 0)).where(*where)
        )
    ).one()
    query = sa.select(campaigns).where(*where).order_by(c.held_on, c.campaign_id)
    items = _rows(await connection.execute(query.limit(page.limit).offset(page.offset)))
    return {"items": items, "total": total, "enterprises_reached": reached, "limit": page.limit, "offset": page.offset}


async def known_enterprises_page(connection: AsyncConnection, tenant: str, page: Page) -> dict[str, Any]:
    e = known_enterprises.c
    total = (await connection.execute(sa.select(sa.func.count()).where(e.tenant == tenant))).scalar_one()
    query = sa.select(known_enterprises).where(e.tenant == tenant).order_by(e.name, e.enterprise_id)
    items = _rows(await connection.execute(query.limit(page.limit).offset(page.offset)))
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}
