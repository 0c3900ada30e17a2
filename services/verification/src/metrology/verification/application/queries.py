"""Read-side queries: certificates, jobs, due and overdue instruments, demand figures, the public check."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.eventkit.database import DatabaseSession
from metrology.refdata.group2 import group2
from metrology.verification.adapters.tables import (
    certificates,
    instrument_due,
    jobs,
    replica_designations,
    replica_enterprises,
    replica_instruments,
    replica_providers,
    replica_standards,
    replica_verifiers,
)
from metrology.verification.application.due_dates import outcome, verification_outcomes
from metrology.verification.application.facts import instrument_from_row
from metrology.verification.domain import certificates as certs
from metrology.verification.domain.due import demand_line


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose rows a principal may see: everything in the tenant, one owner's, or one provider's."""

    tenant: str
    owner_enterprise_id: str | None = None
    provider_id: str | None = None


@dataclass(frozen=True, slots=True)
class InstrumentFilter:
    commune_code: str | None = None
    type_code: str | None = None
    owner_enterprise_id: str | None = None


async def _paged(connection: AsyncConnection, query: sa.Select[Any], page: Page) -> dict[str, Any]:
    total = (await connection.execute(sa.select(sa.func.count()).select_from(query.subquery()))).scalar_one()
    rows = await connection.execute(query.limit(page.limit).offset(page.offset))
    return {"items": [dict(r._mapping) for r in rows], "total": total, "limit": page.limit, "offset": page.offset}


def _scoped(query: sa.Select[Any], table: sa.Table, scope: Scope) -> sa.Select[Any]:
    query = query.where(table.c.tenant == scope.tenant)
    if scope.owner_enterprise_id is not None:
        query = query.where(table.c.owner_enterprise_id == scope.owner_enterprise_id)
    if scope.provider_id is not None and "provider_id" in table.c:
        query = query.where(table.c.provider_id == scope.provider_id)
    return query


def with_status(row: dict[str, Any], today: date) -> dict[str, Any]:
    return row | {"status": certs.status_on(today, row["valid_until"], row["revoked_on"] is not None)}


async def list_certificates(
    connection: AsyncConnection, scope: Scope, subject_id: str | None, page: Page, today: date
) -> dict[str, Any]:
    query = _scoped(sa.select(certificates), certificates, scope)
    if subject_id:
        query = query.where(certificates.c.subject_id == subject_id)
    result = await _paged(connection, query.order_by(certificates.c.performed_on.desc(), certificates.c.number), page)
    result["items"] = [with_status(item, today) for item in result["items"]]
    return result


async def certificate(connection: AsyncConnection, number: str, scope: Scope, today: date) -> dict[str, Any] | None:
    query = _scoped(sa.select(certificates).where(certificates.c.number == number), certificates, scope)
    row = (await connection.execute(query)).first()
    return None if row is None else with_status(dict(row._mapping), today)


async def list_jobs(connection: AsyncConnection, scope: Scope, subject_id: str | None, page: Page) -> dict[str, Any]:
    query = _scoped(sa.select(jobs), jobs, scope)
    if subject_id:
        query = query.where(jobs.c.subject_id == subject_id)
    return await _paged(connection, query.order_by(jobs.c.performed_on.desc(), jobs.c.job_id), page)


async def job(connection: AsyncConnection, job_id: str, scope: Scope) -> dict[str, Any] | None:
    row = (await connection.execute(_scoped(sa.select(jobs).where(jobs.c.job_id == job_id), jobs, scope))).first()
    return None if row is None else dict(row._mapping)


async def jobs_by_reference(
    connection: AsyncConnection, reference: str, provider_id: str | None, scope: Scope
) -> list[dict[str, Any]]:
    """Jobs recorded under a client's reference (one per provider): at most two, enough to tell one from many."""
    query = _scoped(sa.select(jobs).where(jobs.c.external_reference == reference), jobs, scope)
    if provider_id is not None:
        query = query.where(jobs.c.provider_id == provider_id)
    rows = await connection.execute(query.order_by(jobs.c.provider_id).limit(2))
    return [dict(row._mapping) for row in rows]


def _instruments(scope: Scope, where: InstrumentFilter) -> sa.Select[Any]:
    query = _scoped(sa.select(instrument_due), instrument_due, scope).where(instrument_due.c.status != "retired")
    if where.commune_code:
        query = query.where(instrument_due.c.commune_code == where.commune_code)
    if where.type_code:
        query = query.where(instrument_due.c.type_code == where.type_code)
    if where.owner_enterprise_id:
        query = query.where(instrument_due.c.owner_enterprise_id == where.owner_enterprise_id)
    return query


async def due_between(
    connection: AsyncConnection, scope: Scope, start: date, end: date, where: InstrumentFilter, page: Page, today: date
) -> dict[str, Any]:
    query = _instruments(scope, where).where(instrument_due.c.due_on.between(start, end))
    result = await _paged(connection, query.order_by(instrument_due.c.due_on, instrument_due.c.instrument_id), page)
    result["items"] = [_flagged(item, today) for item in result["items"]]
    return result


async def overdue(
    connection: AsyncConnection, scope: Scope, as_of: date, where: InstrumentFilter, page: Page
) -> dict[str, Any]:
    query = _instruments(scope, where).where(instrument_due.c.due_on < as_of)
    result = await _paged(connection, query.order_by(instrument_due.c.due_on, instrument_due.c.instrument_id), page)
    result["items"] = [_flagged(item, as_of) for item in result["items"]]
    return result


def _flagged(item: dict[str, Any], day: date) -> dict[str, Any]:
    overdue_ = item["due_on"] is not None and item["due_on"] < day
    return item | {"overdue": overdue_, "fit_for_use": not (overdue_ or item["unfit"])}


async def demand(session: DatabaseSession, scope: Scope, start: date, end: date, page: Page) -> dict[str, Any]:
    """Instruments due in the period vs verified in it, split by local and outside providers (the T1 inputs)."""
    query = _scoped(sa.select(replica_instruments), replica_instruments, scope).order_by(
        replica_instruments.c.instrument_id
    )
    instruments = [instrument_from_row(row) for row in await session.execute(query)]
    history = await verification_outcomes(session, [i.instrument_id for i in instruments])
    lines = []
    for instrument in instruments:
        retired = [on for on, status in instrument.status_changes if status == "retired"]
        lines.append(
            demand_line(
                instrument.instrument_id,
                instrument.type_code,
                instrument.registered_on,
                min(retired) if retired else None,
                [outcome(r) for r in history[instrument.instrument_id]],
                (start, end),
                group2(),
            )
        )
    due = [line for line in lines if line.due_in_period]
    met_local = sum(1 for line in due if line.verified_by_local)
    met_outside = sum(1 for line in due if line.verified_in_period and not line.verified_by_local)
    items = [
        {
            "instrument_id": line.instrument_id,
            "verified_in_period": line.verified_in_period,
            "verified_by_local": line.verified_by_local,
        }
        for line in due[page.offset : page.offset + page.limit]
    ]
    return {
        "period": {"from": start, "to": end},
        "province_code": scope.tenant,
        "due": len(due),
        "verified": met_local + met_outside,
        "verified_by_local": met_local,
        "verified_by_outside": met_outside,
        "not_verified": len(due) - met_local - met_outside,
        "verified_in_period_all": sum(1 for line in lines if line.verified_in_period),
        "local_coverage": round(met_local / len(due), 4) if due else None,
        "items": items,
        "total": len(due),
        "limit": page.limit,
        "offset": page.offset,
    }


PUBLIC_FIELDS = ("number", "kind", "type_code", "serial", "provider_name", "performed_on", "valid_until")


async def public_certificate(connection: AsyncConnection, number: str, today: date) -> dict[str, Any] | None:
    """What anyone may see of a certificate: its validity and the instrument, never the owner."""
    row = (await connection.execute(sa.select(certificates).where(certificates.c.number == number))).first()
    if row is None:
        return None
    full = with_status(dict(row._mapping), today)
    return {key: full[key] for key in (*PUBLIC_FIELDS, "status")} | {"revoked_on": full["revoked_on"]}


async def replica_counts(connection: AsyncConnection) -> dict[str, int]:
    tables = {
        "enterprises": replica_enterprises,
        "providers": replica_providers,
        "designations": replica_designations,
        "verifiers": replica_verifiers,
        "standards": replica_standards,
        "instruments": replica_instruments,
    }
    counts = {}
    for name, table in tables.items():
        counts[name] = (await connection.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
    suspensions = (await connection.execute(sa.select(replica_verifiers.c.suspensions))).scalars()
    counts["verifier_status_changes"] = sum(len(changes) for changes in suspensions)
    return counts
