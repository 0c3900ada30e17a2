"""Reading the registry replica into the domain's dated snapshots."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

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


async def facts_for(session: AsyncSession, work: Work) -> Facts:
    instrument = await instrument_by_id(session, work.subject_id) if work.subject == "instrument" else None
    subject_standard = await standard_by_id(session, work.subject_id) if work.subject == "standard" else None
    working = await standard_by_id(session, work.working_standard_id) if work.working_standard_id else None
    return Facts(
        provider=await provider_by_id(session, work.provider_id),
        verifier=await verifier_by_id(session, work.verifier_id),
        instrument=instrument,
        standard_subject=subject_standard,
        working_standard=working,
    )


async def _row(session: AsyncSession, table: sa.Table, key: str, value: str) -> Any:
    return (await session.execute(sa.select(table).where(table.c[key] == value))).first()


async def provider_by_id(session: AsyncSession, provider_id: str) -> Provider | None:
    row = await _row(session, replica_providers, "provider_id", provider_id)
    if row is None:
        return None
    query = sa.select(replica_designations).where(replica_designations.c.provider_id == provider_id)
    designations = tuple(_designation(d) for d in await session.execute(query))
    return Provider(row.provider_id, row.name, row.province_code, designations)


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


async def verifier_by_id(session: AsyncSession, verifier_id: str) -> Verifier | None:
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
    )


async def standard_by_id(session: AsyncSession, standard_id: str) -> Standard | None:
    row = await _row(session, replica_standards, "standard_id", standard_id)
    if row is None:
        return None
    query = sa.select(certificates.c.performed_on, certificates.c.valid_until).where(
        certificates.c.kind == "calibration",
        certificates.c.subject == "standard",
        certificates.c.subject_id == standard_id,
        certificates.c.revoked_on.is_(None),
        certificates.c.valid_until.is_not(None),
    )
    recalibrations = tuple((r.performed_on, r.valid_until) for r in await session.execute(query))
    return Standard(row.standard_id, row.owner_id, row.level, row.calibrated_on, row.due_on, recalibrations)


async def instrument_by_id(session: AsyncSession, instrument_id: str) -> Instrument | None:
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
