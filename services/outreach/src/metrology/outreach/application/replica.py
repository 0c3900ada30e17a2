"""The local replica of registry facts outreach needs: which enterprises exist (and are open), who owns what."""

from __future__ import annotations

import sqlalchemy as sa

from metrology.eventkit.database import DatabaseSession
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import DomainEvent, EventRegistry
from metrology.outreach.adapters.tables import known_enterprises, owned_subjects
from metrology.outreach.domain.consumed import (
    EnterpriseClosed,
    EnterpriseRegistered,
    EnterpriseUpdated,
    InstrumentRegistered,
    StandardRegistered,
    registry_events,
)


class RegistryReplica:
    name = "outreach.registry-replica"

    def __init__(self, registry: EventRegistry | None = None) -> None:
        self.registry = registry or registry_events()

    async def apply(self, session: DatabaseSession, envelope: Envelope, event: DomainEvent) -> None:
        tenant = envelope.tenant
        match event:
            case EnterpriseRegistered():
                await _upsert_enterprise(session, tenant, event)
            case EnterpriseUpdated():
                changes = {k: v for k, v in {"name": event.name, "sector": event.sector}.items() if v is not None}
                if changes:
                    await session.execute(
                        sa.update(known_enterprises).where(*_enterprise(tenant, event.enterprise_id)).values(**changes)
                    )
            case EnterpriseClosed():
                await session.execute(
                    sa.update(known_enterprises)
                    .where(*_enterprise(tenant, event.enterprise_id))
                    .values(closed_on=event.occurred_on)
                )
            case InstrumentRegistered():
                await _own(session, tenant, event.instrument_id, "instrument", event.owner_enterprise_id)
            case StandardRegistered():
                await _own(session, tenant, event.standard_id, "standard", event.owner_id)

    async def after_batch(self, session: DatabaseSession) -> None:
        """Everything is written in `apply`."""

    async def reset(self, session: DatabaseSession) -> None:
        await session.execute(sa.delete(known_enterprises))
        await session.execute(sa.delete(owned_subjects))


def _enterprise(tenant: str, enterprise_id: str) -> list[sa.ColumnElement[bool]]:
    return [known_enterprises.c.tenant == tenant, known_enterprises.c.enterprise_id == enterprise_id]


async def _upsert_enterprise(session: DatabaseSession, tenant: str, event: EnterpriseRegistered) -> None:
    await session.execute(sa.delete(known_enterprises).where(*_enterprise(tenant, event.enterprise_id)))
    await session.execute(
        sa.insert(known_enterprises).values(
            tenant=tenant,
            enterprise_id=event.enterprise_id,
            tax_code=event.tax_code,
            name=event.name,
            sector=event.sector,
        )
    )


async def _own(session: DatabaseSession, tenant: str, subject_id: str, subject: str, owner_id: str) -> None:
    key = [owned_subjects.c.tenant == tenant, owned_subjects.c.subject_id == subject_id]
    await session.execute(sa.delete(owned_subjects).where(*key))
    await session.execute(
        sa.insert(owned_subjects).values(tenant=tenant, subject_id=subject_id, subject=subject, owner_id=owner_id)
    )


async def owner_of(session: DatabaseSession, tenant: str, subject_id: str) -> str | None:
    query = sa.select(owned_subjects.c.owner_id).where(
        owned_subjects.c.tenant == tenant, owned_subjects.c.subject_id == subject_id
    )
    return (await session.execute(query)).scalar_one_or_none()
