"""The local replica of the registry: folds `metrology.registry.v1` into `replica_*` tables (never a call).

The write side checks every job against these tables. Dated histories (renewals, revocations, suspensions,
status changes) are kept, so that a job is judged by the registry as it stood on the job's date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from metrology.eventkit.database import DatabaseSession
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import DomainEvent, EventRegistry
from metrology.verification.adapters.tables import (
    instrument_due,
    replica_designations,
    replica_enterprises,
    replica_instruments,
    replica_providers,
    replica_standards,
    replica_verifiers,
)
from metrology.verification.adapters.writes import rows_by_key, upsert
from metrology.verification.application import due_dates
from metrology.verification.application.facts import instrument_from_row
from metrology.verification.domain import consumed as c

REPLICA_TABLES = [
    replica_enterprises,
    replica_providers,
    replica_designations,
    replica_verifiers,
    replica_standards,
    replica_instruments,
    instrument_due,
]


KEYS: dict[str, str] = {
    replica_enterprises.name: "enterprise_id",
    replica_providers.name: "provider_id",
    replica_designations.name: "designation_id",
    replica_verifiers.name: "verifier_id",
    replica_standards.name: "standard_id",
    replica_instruments.name: "instrument_id",
}
_BATCH = "verification.registry-replica.batch"


class RegistryReplica:
    """Folds a projector batch in memory and writes it in `after_batch`: a few statements per batch, not per event.

    `apply` only notes what an event does; `after_batch` (same transaction) reads the rows the batch changes
    but did not create, replays the notes on them in order, upserts every changed row once per table and
    recomputes the due dates of the instruments touched. The notes live on the session, so a batch that
    fails leaves nothing behind for the next one.
    """

    name = "verification.registry-replica"

    def __init__(self, registry: EventRegistry | None = None) -> None:
        self.registry = registry or c.registry()

    async def apply(self, session: DatabaseSession, envelope: Envelope, event: DomainEvent) -> None:
        batch: _Batch = session.info.setdefault(_BATCH, _Batch())
        day = event.occurred_on
        match event:
            case c.EnterpriseRegistered():
                batch.put(replica_enterprises, _enterprise_row(envelope, event))
            case c.EnterpriseUpdated():
                changed = event.model_dump(include={"name", "province_code", "commune_code"}, exclude_none=True)
                batch.set(replica_enterprises, event.enterprise_id, changed)
            case c.EnterpriseClosed():
                batch.set(replica_enterprises, event.enterprise_id, {"closed_on": day})
            case c.ProviderRegistered():
                batch.put(replica_providers, _provider_row(envelope, event))
            case c.ProviderDesignated():
                batch.put(replica_designations, _designation_row(event))
            case c.DesignationRenewed():
                batch.append(
                    replica_designations, event.designation_id, "renewals",
                    [day.isoformat(), event.valid_until.isoformat()],
                )  # fmt: skip
            case c.DesignationRevoked():
                batch.set(replica_designations, event.designation_id, {"revoked_on": day})
            case c.VerifierCertified():
                batch.put(replica_verifiers, _verifier_row(event))
            case c.VerifierSuspended() | c.VerifierReinstated():
                suspended = isinstance(event, c.VerifierSuspended)
                batch.append(replica_verifiers, event.verifier_id, "suspensions", [day.isoformat(), suspended])
            case c.StandardRegistered():
                batch.put(replica_standards, _standard_row(event))
            case c.InstrumentRegistered():
                batch.put(replica_instruments, _instrument_row(envelope, event))
                batch.due.append(event.instrument_id)
            case c.InstrumentStatusChanged():
                batch.append(
                    replica_instruments, event.instrument_id, "status_changes", [day.isoformat(), event.status]
                )
                batch.due.append(event.instrument_id)

    async def after_batch(self, session: DatabaseSession) -> None:
        batch: _Batch | None = session.info.pop(_BATCH, None)
        if batch is not None:
            await batch.write(session)

    async def reset(self, session: DatabaseSession) -> None:
        session.info.pop(_BATCH, None)
        for table in REPLICA_TABLES:
            await session.execute(sa.delete(table))


@dataclass(frozen=True, slots=True)
class _Change:
    table: sa.Table
    key: str
    row: dict[str, Any] | None = None  # a whole new row (a registration replaces what was there)
    column: str | None = None  # or an item appended to a JSON list column
    item: list[Any] | None = None
    values: dict[str, Any] | None = None  # or plain column values


@dataclass
class _Batch:
    changes: list[_Change] = field(default_factory=list)
    due: list[str] = field(default_factory=list)

    def put(self, table: sa.Table, row: dict[str, Any]) -> None:
        self.changes.append(_Change(table, row[KEYS[table.name]], row=row))

    def append(self, table: sa.Table, key: str, column: str, item: list[Any]) -> None:
        self.changes.append(_Change(table, key, column=column, item=item))

    def set(self, table: sa.Table, key: str, values: dict[str, Any]) -> None:
        self.changes.append(_Change(table, key, values=values))

    async def write(self, session: DatabaseSession) -> None:
        rows = await self._rows_to_change(session)
        changed: dict[str, dict[str, dict[str, Any]]] = {}
        for change in self.changes:
            current = rows.setdefault(change.table.name, {})
            if change.row is not None:
                current[change.key] = dict(change.row)
            elif change.key not in current:
                continue  # the registry's stream always starts with the registration; nothing to attach to
            elif change.column is not None:
                row = current[change.key]
                row[change.column] = [*row[change.column], change.item]
            else:
                current[change.key].update(change.values or {})
            changed.setdefault(change.table.name, {})[change.key] = current[change.key]
        for table in REPLICA_TABLES:
            await upsert(session, table, list(changed.get(table.name, {}).values()))
        instruments = rows.get(replica_instruments.name, {})
        touched = [instruments[i] for i in dict.fromkeys(self.due) if i in instruments]
        await due_dates.refresh_known(
            session, [(r["tenant"], instrument_from_row(SimpleNamespace(**r))) for r in touched]
        )

    async def _rows_to_change(self, session: DatabaseSession) -> dict[str, dict[str, dict[str, Any]]]:
        """The stored rows that changes other than whole new rows apply to (one query per table)."""
        created: set[tuple[str, str]] = set()
        wanted: dict[str, list[str]] = {}
        tables: dict[str, sa.Table] = {}
        for change in self.changes:
            if change.row is not None:
                created.add((change.table.name, change.key))
            elif (change.table.name, change.key) not in created:
                wanted.setdefault(change.table.name, []).append(change.key)
                tables[change.table.name] = change.table
        rows: dict[str, dict[str, dict[str, Any]]] = {}
        for name, keys in wanted.items():
            found = await rows_by_key(session, tables[name], KEYS[name], list(dict.fromkeys(keys)))
            rows[name] = {key: dict(row._mapping) for key, row in found.items()}
        return rows


def _instrument_row(envelope: Envelope, event: c.InstrumentRegistered) -> dict[str, Any]:
    changes = [] if event.status == "in-use" else [[event.occurred_on.isoformat(), event.status]]
    return {
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


def _enterprise_row(envelope: Envelope, event: c.EnterpriseRegistered) -> dict[str, Any]:
    return {
        "enterprise_id": event.enterprise_id,
        "tenant": envelope.tenant,
        "tax_code": event.tax_code,
        "name": event.name,
        "province_code": event.province_code,
        "commune_code": event.commune_code,
        "registered_on": event.occurred_on,
        "closed_on": None,
    }


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
        "card_valid_until": event.card_valid_until,
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
        "name": event.name,
        "calibrated_against": event.calibrated_against,
        "national_standard": event.national_standard,
        "certificate_number": event.certificate_number,
    }


def as_date(value: str) -> date:
    return date.fromisoformat(value)
