"""Instruments to inspect: those verification reports overdue or unfit, until a certificate is issued again.

Read from the replica (`instrument-fell-overdue`, `instrument-marked-unfit`, certificates) with the instrument's
type, owner and commune, and the date of the latest finding on it since the alert (null: not inspected since).
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.inspection.adapters.tables import findings, replica_alerts, replica_certificates, replica_instruments

Reason = Literal["overdue", "unfit"]


async def watchlist_page(
    connection: AsyncConnection,
    tenant: str,
    reason: Reason | None,
    type_code: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    a, i, cert, f = replica_alerts, replica_instruments, replica_certificates, findings
    certified_since = (
        sa.select(cert.c.certificate_number)
        .where(cert.c.subject_id == a.c.instrument_id, cert.c.issued_on >= a.c.since, cert.c.revoked_on.is_(None))
        .exists()
    )
    inspected_on = (
        sa.select(sa.func.max(f.c.found_on))
        .where(f.c.tenant == a.c.tenant, f.c.instrument_id == a.c.instrument_id, f.c.found_on >= a.c.since)
        .scalar_subquery()
    )
    rows = (
        sa.select(
            a.c.instrument_id,
            a.c.reason,
            a.c.since,
            a.c.due_on,
            a.c.job_id,
            i.c.type_code,
            i.c.serial,
            i.c.owner_enterprise_id,
            i.c.commune_code,
            inspected_on.label("inspected_on"),
        )
        .select_from(a.outerjoin(i, i.c.instrument_id == a.c.instrument_id))
        .where(a.c.tenant == tenant, ~certified_since)
        .subquery("watchlist")
    )
    where = []
    if reason:
        where.append(rows.c.reason == reason)
    if type_code:
        where.append(rows.c.type_code == type_code)
    total = (await connection.execute(sa.select(sa.func.count()).select_from(rows).where(*where))).scalar_one()
    query = sa.select(rows).where(*where).order_by(rows.c.since, rows.c.instrument_id, rows.c.reason)
    items = [dict(row._mapping) for row in await connection.execute(query.limit(limit).offset(offset))]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
