"""Reading a working standard's traceability chain from the registry replica, as it stood on a date."""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa

from metrology.eventkit.database import DatabaseSession
from metrology.verification.adapters.tables import certificates, replica_standards
from metrology.verification.domain.traceability import MAX_LINKS, TraceabilityLink, chain


async def chain_on(session: DatabaseSession, standard_id: str, day: date) -> list[TraceabilityLink]:
    """The chain of `standard_id` on `day`, each standard with its latest calibration performed on or before `day`
    (the registry's, or a later one this service certified): one indexed read per link."""
    links: dict[str, TraceabilityLink] = {}
    current: str | None = standard_id
    while current is not None and current not in links and len(links) < MAX_LINKS:
        link = await _link(session, current, day)
        if link is None:
            break
        links[current] = link
        current = link.calibrated_against
    return chain(standard_id, links.get)


async def _link(session: DatabaseSession, standard_id: str, day: date) -> TraceabilityLink | None:
    row = (
        await session.execute(sa.select(replica_standards).where(replica_standards.c.standard_id == standard_id))
    ).first()
    if row is None:
        return None
    number, calibrated_on, due_on = row.certificate_number, row.calibrated_on, row.due_on
    recalibration = await _latest_recalibration(session, standard_id, day)
    if recalibration is not None and recalibration.performed_on >= calibrated_on:
        number, calibrated_on, due_on = recalibration.number, recalibration.performed_on, recalibration.valid_until
    return TraceabilityLink(
        standard_id=row.standard_id,
        name=row.name,
        level=row.level,
        quantity=row.quantity,
        certificate_number=number,
        calibrated_on=calibrated_on,
        due_on=due_on,
        calibrated_against=row.calibrated_against,
        national_standard=row.national_standard,
    )


async def _latest_recalibration(session: DatabaseSession, standard_id: str, day: date) -> Any:
    """The latest calibration certificate this service issued for the standard by `day`, not revoked by then."""
    c = certificates.c
    query = (
        sa.select(c.number, c.performed_on, c.valid_until)
        .where(
            c.subject_id == standard_id,
            c.subject == "standard",
            c.kind == "calibration",
            c.performed_on <= day,
            c.valid_until.is_not(None),
            sa.or_(c.revoked_on.is_(None), c.revoked_on > day),
        )
        .order_by(c.performed_on.desc())
        .limit(1)
    )
    return (await session.execute(query)).first()
