"""Registration requests: instruments found in use at state inspections that the registry did not know.

Folded from `metrology.inspection.v1` (`instrument-found-unregistered`); a request reads as `registered` once an
instrument of that type and serial is registered in the province, `pending` until then.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.eventkit.database import DatabaseSession
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import DomainEvent, EventRegistry
from metrology.registry.adapters.views import instruments, registration_requests
from metrology.registry.domain.consumed import InstrumentFoundUnregistered, inspection_events

Status = Literal["pending", "registered"]


class RegistrationRequests:
    name = "registry.registration-requests"

    def __init__(self, registry: EventRegistry | None = None) -> None:
        self.registry = registry or inspection_events()

    async def apply(self, session: DatabaseSession, envelope: Envelope, event: DomainEvent) -> None:
        if not isinstance(event, InstrumentFoundUnregistered):
            return
        key = registration_requests.c.finding_id == event.finding_id
        if (await session.execute(sa.select(registration_requests.c.finding_id).where(key))).first() is None:
            await session.execute(
                sa.insert(registration_requests).values(
                    finding_id=event.finding_id, tenant=envelope.tenant, visit_id=event.visit_id,
                    type_code=event.type_code, serial=event.serial, enterprise_id=event.enterprise_id,
                    venue_name=event.venue_name, commune_code=event.commune_code, found_on=event.occurred_on,
                )
            )  # fmt: skip

    async def after_batch(self, session: DatabaseSession) -> None:
        """Everything is written in `apply`."""

    async def reset(self, session: DatabaseSession) -> None:
        await session.execute(sa.delete(registration_requests))


async def requests_page(
    connection: AsyncConnection, tenant: str, status: Status | None, limit: int, offset: int
) -> dict[str, Any]:
    r, i = registration_requests, instruments
    registered = (
        sa.select(i.c.instrument_id)
        .where(i.c.tenant == r.c.tenant, i.c.type_code == r.c.type_code, i.c.serial == r.c.serial)
        .limit(1)
        .scalar_subquery()
    )
    rows = sa.select(r, registered.label("instrument_id")).where(r.c.tenant == tenant).subquery("requests")
    where = []
    if status == "pending":
        where.append(rows.c.instrument_id.is_(None))
    elif status == "registered":
        where.append(rows.c.instrument_id.is_not(None))
    total = (await connection.execute(sa.select(sa.func.count()).select_from(rows).where(*where))).scalar_one()
    query = sa.select(rows).where(*where).order_by(rows.c.found_on, rows.c.finding_id).limit(limit).offset(offset)
    items = [
        {k: v for k, v in row._mapping.items() if k != "tenant"}
        | {"status": "pending" if row.instrument_id is None else "registered"}
        for row in await connection.execute(query)
    ]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
