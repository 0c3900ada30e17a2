"""The local replica inspection keeps of the registry (instruments, owners) and of certificates (verification).

A finding is judged against it without calling anyone: is the instrument registered here, and did it hold a
certificate in force on the visit date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.eventkit.database import DatabaseSession
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import DomainEvent, EventRegistry
from metrology.inspection.adapters.tables import (
    replica_alerts,
    replica_certificates,
    replica_enterprises,
    replica_instruments,
)
from metrology.inspection.domain import consumed as c
from metrology.inspection.domain.visit import Registration

REPLICA_TABLES = [replica_instruments, replica_enterprises, replica_certificates, replica_alerts]


class Replica:
    name = "inspection.replica"

    def __init__(self, registry: EventRegistry | None = None) -> None:
        self.registry = registry or c.registry()

    async def apply(self, session: DatabaseSession, envelope: Envelope, event: DomainEvent) -> None:
        tenant = envelope.tenant
        match event:
            case c.EnterpriseRegistered():
                await _replace(session, replica_enterprises, "enterprise_id", {
                    "enterprise_id": event.enterprise_id, "tenant": tenant, "tax_code": event.tax_code,
                    "name": event.name,
                })  # fmt: skip
            case c.InstrumentRegistered():
                await _replace(session, replica_instruments, "instrument_id", {
                    "instrument_id": event.instrument_id, "tenant": tenant, "type_code": event.type_code,
                    "serial": event.serial, "owner_enterprise_id": event.owner_enterprise_id,
                    "commune_code": event.commune_code, "status": event.status,
                })  # fmt: skip
            case c.InstrumentStatusChanged():
                await session.execute(
                    sa.update(replica_instruments)
                    .where(replica_instruments.c.instrument_id == event.instrument_id)
                    .values(status=event.status)
                )
            case c.CertificateIssued():
                await _replace(session, replica_certificates, "certificate_number", {
                    "certificate_number": event.certificate_number, "tenant": tenant, "subject_id": event.subject_id,
                    "issued_on": event.occurred_on, "valid_until": event.valid_until, "revoked_on": None,
                })  # fmt: skip
            case c.CertificateRevoked():
                await session.execute(
                    sa.update(replica_certificates)
                    .where(replica_certificates.c.certificate_number == event.certificate_number)
                    .values(revoked_on=event.occurred_on)
                )
            case c.InstrumentFellOverdue():
                await _alert(session, tenant, event.instrument_id, "overdue", event.occurred_on, due_on=event.due_on)
            case c.InstrumentMarkedUnfit():
                await _alert(session, tenant, event.subject_id, "unfit", event.occurred_on, job_id=event.job_id)

    async def after_batch(self, session: DatabaseSession) -> None:
        """Everything is written in `apply`."""

    async def reset(self, session: DatabaseSession) -> None:
        for table in REPLICA_TABLES:
            await session.execute(sa.delete(table))


async def _replace(session: DatabaseSession, table: sa.Table, key: str, row: dict[str, object]) -> None:
    await session.execute(sa.delete(table).where(table.c[key] == row[key]))
    await session.execute(sa.insert(table).values(**row))


async def _alert(
    session: DatabaseSession, tenant: str, instrument_id: str, reason: str, since: date, **more: object
) -> None:
    """The latest alert of each kind per instrument (a later one replaces an earlier one)."""
    key = [replica_alerts.c.instrument_id == instrument_id, replica_alerts.c.reason == reason]
    await session.execute(sa.delete(replica_alerts).where(*key, replica_alerts.c.since <= since))
    if (await session.execute(sa.select(replica_alerts.c.since).where(*key))).first() is None:
        row = {"instrument_id": instrument_id, "reason": reason, "tenant": tenant, "since": since} | more
        await session.execute(sa.insert(replica_alerts).values(**row))


# -- look-ups for the write side -------------------------------------------------------------------


async def registration_by_id(
    session: DatabaseSession, tenant: str, instrument_id: str, on: date
) -> Registration | None:
    query = sa.select(replica_instruments).where(
        replica_instruments.c.tenant == tenant, replica_instruments.c.instrument_id == instrument_id
    )
    row = (await session.execute(query)).first()
    return None if row is None else await _registration(session, row, on)


async def registration_by_serial(
    session: DatabaseSession, tenant: str, type_code: str, serial: str, on: date
) -> Registration | None:
    query = sa.select(replica_instruments).where(
        replica_instruments.c.tenant == tenant,
        replica_instruments.c.type_code == type_code,
        replica_instruments.c.serial == serial,
    )
    row = (await session.execute(query)).first()
    return None if row is None else await _registration(session, row, on)


async def _registration(session: DatabaseSession, row: sa.Row, on: date) -> Registration:
    """The instrument with the certificates in force on `on` (issued by then, not revoked by then)."""
    query = sa.select(replica_certificates.c.valid_until).where(
        replica_certificates.c.subject_id == row.instrument_id,
        replica_certificates.c.issued_on <= on,
        sa.or_(replica_certificates.c.revoked_on.is_(None), replica_certificates.c.revoked_on > on),
    )
    ends = list((await session.execute(query)).scalars())
    valid_until = None if not ends or None in ends else max(ends)
    return Registration(
        instrument_id=row.instrument_id,
        type_code=row.type_code,
        serial=row.serial,
        owner_enterprise_id=row.owner_enterprise_id,
        commune_code=row.commune_code,
        verified=bool(ends),
        valid_until=valid_until,
    )


async def instruments_page(
    connection: AsyncConnection,
    tenant: str,
    type_code: str | None,
    serial: str | None,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """The replica's registered instruments of the province, with the end of their latest certificate in force."""
    i, cert = replica_instruments, replica_certificates
    valid_until = (
        sa.select(sa.func.max(cert.c.valid_until))
        .where(cert.c.subject_id == i.c.instrument_id, cert.c.revoked_on.is_(None))
        .scalar_subquery()
    )
    where = [i.c.tenant == tenant]
    if type_code:
        where.append(i.c.type_code == type_code)
    if serial:
        where.append(i.c.serial == serial)
    total = (await connection.execute(sa.select(sa.func.count()).select_from(i).where(*where))).scalar_one()
    columns = [i.c.instrument_id, i.c.type_code, i.c.serial, i.c.owner_enterprise_id, i.c.commune_code, i.c.status]
    query = sa.select(*columns, valid_until.label("valid_until")).where(*where).order_by(i.c.instrument_id)
    items = [dict(row._mapping) for row in await connection.execute(query.limit(limit).offset(offset))]
    return {"items": items, "total": total, "limit": limit, "offset": offset}
