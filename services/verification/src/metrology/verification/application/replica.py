"""The local replica of the registry: folds `metrology.registry.v1` into `replica_*` tables (never a call).

The write side checks every job against these tables. Dated histories (renewals, revocations, suspensions,
status changes) are kept, so that a job is judged by the registry as it stood on the job's date.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import DomainEvent, EventRegistry
from metrology.verification.adapters.tables import (
    instrument_due,
    replica_designations,
    replica_instruments,
    replica_providers,
    replica_standards,
    replica_verifiers,
)
from metrology.verification.application import due_dates
from metrology.verification.domain import consumed as c

REPLICA_TABLES = [
    replica_providers,
    replica_designations,
    replica_verifiers,
    replica_standards,
    replica_instruments,
    instrument_due,
]


class RegistryReplica:
    name = "verification.registry-replica"

    def __init__(self, registry: EventRegistry | None = None) -> None:
        self.registry = registry or c.registry()

    async def apply(self, session: AsyncSession, envelope: Envelope, event: DomainEvent) -> None:
        day = event.occurred_on
        match event:
            case c.ProviderRegistered():
                await _replace(session, replica_providers, "provider_id", _provider_row(envelope, event))
            case c.ProviderDesignated():
                await _replace(session, replica_designations, "designation_id", _designation_row(event))
            case c.DesignationRenewed():
                await _append_json(
                    session, replica_designations, "designation_id", event.designation_id, "renewals",
                    [day.isoformat(), event.valid_until.isoformat()],
                )  # fmt: skip
            case c.DesignationRevoked():
                await session.execute(
                    sa.update(replica_designations)
                    .where(replica_designations.c.designation_id == event.designation_id)
                    .values(revoked_on=day)
                )
            case c.VerifierCertified():
                await _replace(session, replica_verifiers, "verifier_id", _verifier_row(event))
            case c.VerifierSuspended() | c.VerifierReinstated():
                suspended = isinstance(event, c.VerifierSuspended)
                await _append_json(
                    session, replica_verifiers, "verifier_id", event.verifier_id, "suspensions",
                    [day.isoformat(), suspended],
                )  # fmt: skip
            case c.StandardRegistered():
                await _replace(session, replica_standards, "standard_id", _standard_row(event))
            case c.InstrumentRegistered():
                await _register_instrument(session, envelope, event)
            case c.InstrumentStatusChanged():
                await _append_json(
                    session, replica_instruments, "instrument_id", event.instrument_id, "status_changes",
                    [day.isoformat(), event.status],
                )  # fmt: skip
                await due_dates.refresh(session, event.instrument_id)

    async def reset(self, session: AsyncSession) -> None:
        for table in REPLICA_TABLES:
            await session.execute(sa.delete(table))


async def _replace(session: AsyncSession, table: sa.Table, key: str, row: dict[str, Any]) -> None:
    await session.execute(sa.delete(table).where(table.c[key] == row[key]))
    await session.execute(sa.insert(table).values(**row))


async def _append_json(
    session: AsyncSession, table: sa.Table, key: str, value: str, column: str, item: list[Any]
) -> None:
    """Append `item` to a JSON list column (read, extend, write: the projector applies events one by one)."""
    current = (await session.execute(sa.select(table.c[column]).where(table.c[key] == value))).scalar_one_or_none()
    if current is None:
        return  # the registry's stream always starts with the registration; nothing to attach to otherwise
    await session.execute(sa.update(table).where(table.c[key] == value).values({column: [*current, item]}))


async def _register_instrument(session: AsyncSession, envelope: Envelope, event: c.InstrumentRegistered) -> None:
    changes = [] if event.status == "in-use" else [[event.occurred_on.isoformat(), event.status]]
    row = {
        "instrument_id": event.instrument_id,
        "tenant": envelope.tenant,
        "type_code": event.type_code,
        "serial": event.serial,
        "manufacturer": event.manufacturer,
        "owner_enterprise_id": event.owner_enterprise_id,
        "province_code": event.province_code,
        "commune_code": event.commune_code,
        "registered_on": event.occurred_on,
        "status_changes": changes,
    }
    await _replace(session, replica_instruments, "instrument_id", row)
    await due_dates.refresh(session, event.instrument_id)


def _provider_row(envelope: Envelope, event: c.ProviderRegistered) -> dict[str, Any]:
    return {
        "provider_id": event.provider_id,
        "tenant": envelope.tenant,
        "name": event.name,
        "ownership": event.ownership,
        "province_code": event.province_code,
        "commune_code": event.commune_code,
    }


def _designation_row(event: c.ProviderDesignated) -> dict[str, Any]:
    return {
        "designation_id": event.designation_id,
        "provider_id": event.provider_id,
        "decision_number": event.decision_number,
        "instrument_types": sorted(event.instrument_types),
        "fields": sorted(event.fields),
        "valid_from": event.valid_from,
        "valid_until": event.valid_until,
        "renewals": [],
        "revoked_on": None,
    }


def _verifier_row(event: c.VerifierCertified) -> dict[str, Any]:
    return {
        "verifier_id": event.verifier_id,
        "provider_id": event.provider_id,
        "card_number": event.card_number,
        "fields": sorted(event.fields),
        "certified_on": event.occurred_on,
        "suspensions": [],
    }


def _standard_row(event: c.StandardRegistered) -> dict[str, Any]:
    return {
        "standard_id": event.standard_id,
        "owner_id": event.owner_id,
        "level": event.level,
        "quantity": event.quantity,
        "calibrated_on": event.calibrated_on,
        "due_on": event.due_on,
    }


def as_date(value: str) -> date:
    return date.fromisoformat(value)
