"""Reading the registry replica into the domain's dated snapshots."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from metrology.eventkit.database import DatabaseSession
from metrology.verification.adapters.tables import (
    certificates,
    replica_designations,
    replica_instruments,
    replica_providers,
    replica_standards,
    replica_verifiers,
)
from metrology.verification.domain.facts import Designation, Facts, Instrument, Provider, Standard, Verifier
from metrology.verification.domain.work import Work


async def facts_for(session: DatabaseSession, work: Work) -> Facts:
    return (await read_facts(session, work))[0]


async def read_facts(session: DatabaseSession, work: Work) -> tuple[Facts, str | None]:
    """The registry facts `work` is checked against (four indexed reads), and its instrument's replica tenant."""
    instrument_row = None
    if work.subject == "instrument":
        instrument_row = await _row(session, replica_instruments, "instrument_id", work.subject_id)
    instrument = None if instrument_row is None else instrument_from_row(instrument_row)
    subject_standard = await standard_by_id(session, work.subject_id) if work.subject == "standard" else None
    working = await standard_by_id(session, work.working_standard_id) if work.working_standard_id else None
    facts = Facts(
        provider=await provider_by_id(session, work.provider_id),
        verifier=await verifier_by_id(session, work.verifier_id),
        instrument=instrument,
        standard_subject=subject_standard,
        working_standard=working,
    )
    return facts, None if instrument_row is None else instrument_row.tenant


async def _row(session: DatabaseSession, table: sa.Table, key: str, value: str) -> Any:
    return (await session.execute(sa.select(table).where(table.c[key] == value))).first()


async def provider_by_id(session: DatabaseSession, provider_id: str) -> Provider | None:
    """The provider with its designations, in one query (an outer join: a provider may have none)."""
    p, d = replica_providers, replica_designations
    query = (
        sa.select(p.c.provider_id, p.c.name, p.c.province_code, *(d.c[name] for name in _DESIGNATION_COLUMNS))
        .select_from(p.outerjoin(d, d.c.provider_id == p.c.provider_id))
        .where(p.c.provider_id == provider_id)
        .order_by(d.c.designation_id)
    )
    rows = (await session.execute(query)).all()
    if not rows:
        return None
    designations = tuple(_designation(row) for row in rows if row.designation_id is not None)
    return Provider(rows[0].provider_id, rows[0].name, rows[0].province_code, designations)


_DESIGNATION_COLUMNS = (
    "designation_id",
    "instrument_types",
    "fields",
    "valid_from",
    "valid_until",
    "renewals",
    "revoked_on",
)


def _designation(row: Any) -> Designation:
    return Designation(
        designation_id=row.designation_id,
        instrument_types=frozenset(row.instrument_types),
        fields=frozenset(row.fields),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        renewals=tuple((date.fromisoformat(on), date.fromisoformat(until)) for on, until in row.renewals),
        revoked_on=row.revoked_on,
    )


async def verifier_by_id(session: DatabaseSession, verifier_id: str) -> Verifier | None:
    row = await _row(session, replica_verifiers, "verifier_id", verifier_id)
    if row is None:
        return None
    return Verifier(
        verifier_id=row.verifier_id,
        provider_id=row.provider_id,
        card_number=row.card_number,
        fields=frozenset(row.fields),
        certified_on=row.certified_on,
        suspensions=tuple((date.fromisoformat(on), bool(suspended)) for on, suspended in row.suspensions),
        card_valid_until=row.card_valid_until,
    )


async def standard_by_id(session: DatabaseSession, standard_id: str) -> Standard | None:
    """The standard with the calibration certificates this service issued for it, in one query."""
    s, cert = replica_standards, certificates
    recalibration = sa.and_(
        cert.c.subject_id == s.c.standard_id,
        cert.c.kind == "calibration",
        cert.c.subject == "standard",
        cert.c.revoked_on.is_(None),
        cert.c.valid_until.is_not(None),
    )
    query = (
        sa.select(
            s.c.standard_id,
            s.c.owner_id,
            s.c.level,
            s.c.calibrated_on,
            s.c.due_on,
            cert.c.performed_on,
            cert.c.valid_until,
        )
        .select_from(s.outerjoin(cert, recalibration))
        .where(s.c.standard_id == standard_id)
    )
    rows = (await session.execute(query)).all()
    if not rows:
        return None
    first = rows[0]
    recalibrations = tuple((r.performed_on, r.valid_until) for r in rows if r.performed_on is not None)
    return Standard(first.standard_id, first.owner_id, first.level, first.calibrated_on, first.due_on, recalibrations)


async def instrument_by_id(session: DatabaseSession, instrument_id: str) -> Instrument | None:
    row = await _row(session, replica_instruments, "instrument_id", instrument_id)
    return None if row is None else instrument_from_row(row)


def instrument_from_row(row: Any) -> Instrument:
    return Instrument(
        instrument_id=row.instrument_id,
        type_code=row.type_code,
        serial=row.serial,
        owner_enterprise_id=row.owner_enterprise_id,
        province_code=row.province_code,
        commune_code=row.commune_code,
        registered_on=row.registered_on,
        status_changes=tuple((date.fromisoformat(on), status) for on, status in row.status_changes),
    )
