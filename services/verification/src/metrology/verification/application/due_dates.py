"""Keeping `instrument_due` in step: recomputed from the instrument's verification jobs, never edited by hand."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from metrology.verification.adapters.tables import certificates, instrument_due, jobs, replica_instruments
from metrology.verification.application.facts import instrument_from_row
from metrology.verification.domain.due import VerificationOutcome, due_on


async def verification_outcomes(session: AsyncSession, instrument_ids: list[str]) -> dict[str, list[Any]]:
    """Each instrument's verifications: (job row with its certificate's valid_until and revoked_on)."""
    query = (
        sa.select(
            jobs.c.job_id,
            jobs.c.subject_id,
            jobs.c.performed_on,
            jobs.c.result,
            jobs.c.provider_local,
            certificates.c.valid_until,
            certificates.c.revoked_on,
        )
        .select_from(jobs.outerjoin(certificates, certificates.c.job_id == jobs.c.job_id))
        .where(jobs.c.kind == "verification", jobs.c.subject == "instrument", jobs.c.subject_id.in_(instrument_ids))
        .order_by(jobs.c.performed_on)
    )
    found: dict[str, list[Any]] = {i: [] for i in instrument_ids}
    for row in await session.execute(query):
        found[row.subject_id].append(row)
    return found


def outcome(row: Any) -> VerificationOutcome:
    return VerificationOutcome(
        performed_on=row.performed_on,
        passed=row.result == "pass",
        valid_until=row.valid_until,
        revoked_on=row.revoked_on,
        provider_local=row.provider_local,
    )


async def refresh(session: AsyncSession, instrument_id: str) -> None:
    """Recompute one instrument's due date (after registration, a status change, a job or a revocation)."""
    row = (
        await session.execute(
            sa.select(replica_instruments).where(replica_instruments.c.instrument_id == instrument_id)
        )
    ).first()
    if row is None:
        return
    instrument = instrument_from_row(row)
    history = (await verification_outcomes(session, [instrument_id]))[instrument_id]
    latest = history[-1] if history else None
    status = instrument.status_changes[-1][1] if instrument.status_changes else "in-use"
    values = {
        "instrument_id": instrument_id,
        "tenant": row.tenant,
        "type_code": instrument.type_code,
        "serial": instrument.serial,
        "owner_enterprise_id": instrument.owner_enterprise_id,
        "commune_code": instrument.commune_code,
        "status": status,
        "registered_on": instrument.registered_on,
        "last_job_id": latest.job_id if latest else None,
        "last_verified_on": latest.performed_on if latest else None,
        "last_result": latest.result if latest else None,
        "unfit": bool(latest and latest.result == "fail"),
        "due_on": due_on(instrument.registered_on, [outcome(r) for r in history]),
    }
    await session.execute(sa.delete(instrument_due).where(instrument_due.c.instrument_id == instrument_id))
    await session.execute(sa.insert(instrument_due).values(**values))
