"""Keeping `instrument_due` in step: recomputed from the instrument's verification jobs, never edited by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from metrology.eventkit.database import DatabaseSession
from metrology.verification.adapters.tables import certificates, instrument_due, jobs, replica_instruments
from metrology.verification.adapters.writes import CHUNK, rows_by_key, upsert
from metrology.verification.application.facts import instrument_from_row
from metrology.verification.domain.due import VerificationOutcome, due_on
from metrology.verification.domain.facts import Instrument


async def verification_outcomes(session: DatabaseSession, instrument_ids: list[str]) -> dict[str, list[Any]]:
    """Each instrument's verifications: (job row with its certificate's valid_until and revoked_on)."""
    found: dict[str, list[Any]] = {i: [] for i in instrument_ids}
    for start in range(0, len(instrument_ids), CHUNK):
        chunk = instrument_ids[start : start + CHUNK]
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
            .where(jobs.c.kind == "verification", jobs.c.subject == "instrument", jobs.c.subject_id.in_(chunk))
            .order_by(jobs.c.performed_on)
        )
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


async def refresh(session: DatabaseSession, instrument_id: str) -> None:
    """Recompute one instrument's due date (after a job or a revocation)."""
    await refresh_many(session, [instrument_id])


async def refresh_many(session: DatabaseSession, instrument_ids: Sequence[str]) -> None:
    """Recompute the due dates of instruments known to the replica: three statements for any number of them."""
    rows = await rows_by_key(session, replica_instruments, "instrument_id", list(dict.fromkeys(instrument_ids)))
    await refresh_known(session, [(row.tenant, instrument_from_row(row)) for row in rows.values()])


async def refresh_known(session: DatabaseSession, instruments: Sequence[tuple[str, Instrument]]) -> None:
    """Recompute the due dates of (tenant, instrument) pairs already read: one read of their jobs, one write."""
    if not instruments:
        return
    histories = await verification_outcomes(session, [instrument.instrument_id for _, instrument in instruments])
    rows = [due_row(tenant, instrument, histories[instrument.instrument_id]) for tenant, instrument in instruments]
    await upsert(session, instrument_due, rows)


def due_row(tenant: str, instrument: Instrument, history: list[Any]) -> dict[str, Any]:
    """The `instrument_due` row of an instrument, from its verifications ordered by date performed."""
    latest = history[-1] if history else None
    status = instrument.status_changes[-1][1] if instrument.status_changes else "in-use"
    return {
        "instrument_id": instrument.instrument_id,
        "tenant": tenant,
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
