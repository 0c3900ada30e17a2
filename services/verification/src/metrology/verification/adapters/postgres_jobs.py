"""`POST /jobs` on PostgreSQL: every registry fact a job is checked against in one statement, and the job's events
with its query rows (job, certificate, due date) in another, both on the unit of work's asyncpg connection
(prepared once per connection by the driver). Each stands alone, with no BEGIN or COMMIT, unless an idempotency
record is written after them. The same reads and writes as the portable path in `application/`, in two round
trips instead of a dozen, and without building a SQLAlchemy statement per call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import sqlalchemy as sa

from metrology.eventkit.envelope import loads_json
from metrology.eventkit.store import VIEW_PARAMETERS_FROM, Views, ViewWrites
from metrology.verification.adapters.tables import certificates, instrument_due, jobs
from metrology.verification.domain.facts import Designation, Facts, Instrument, Provider, Standard, Verifier
from metrology.verification.domain.traceability import MAX_LINKS, TraceabilityLink, chain
from metrology.verification.domain.work import Work

# Each row is (kind, JSON of the row): one statement however many tables are read.
_STANDARD = """json_build_object(
    'standard_id', s.standard_id, 'owner_id', s.owner_id, 'level', s.level, 'calibrated_on', s.calibrated_on,
    'due_on', s.due_on, 'recalibrations', (
        SELECT coalesce(json_agg(json_build_array(c.performed_on, c.valid_until)), '[]')
        FROM certificates c
        WHERE c.subject_id = s.standard_id AND c.kind = 'calibration' AND c.subject = 'standard'
          AND c.revoked_on IS NULL AND c.valid_until IS NOT NULL))::text"""
READ_FACTS = f"""
WITH RECURSIVE walk(standard_id, depth, path) AS (
    SELECT $5::text, 1, ARRAY[$5::text] WHERE $6::bool
    UNION ALL
    SELECT s.calibrated_against, w.depth + 1, w.path || s.calibrated_against
    FROM walk w JOIN replica_standards s ON s.standard_id = w.standard_id
    WHERE s.calibrated_against IS NOT NULL AND NOT s.calibrated_against = ANY(w.path) AND w.depth < {MAX_LINKS}
)
SELECT 'provider', json_build_object(
    'provider_id', p.provider_id, 'tenant', p.tenant, 'name', p.name, 'province_code', p.province_code)::text
FROM replica_providers p WHERE p.provider_id = $1
UNION ALL
SELECT 'designation', json_build_object(
    'designation_id', d.designation_id, 'instrument_types', d.instrument_types, 'fields', d.fields,
    'valid_from', d.valid_from, 'valid_until', d.valid_until, 'renewals', d.renewals, 'revoked_on', d.revoked_on)::text
FROM replica_designations d WHERE d.provider_id = $1
UNION ALL
SELECT 'verifier', row_to_json(v)::text FROM replica_verifiers v WHERE v.verifier_id = $2
UNION ALL
SELECT 'instrument', row_to_json(i)::text FROM replica_instruments i WHERE i.instrument_id = $3
UNION ALL
SELECT 'standard_subject', {_STANDARD} FROM replica_standards s WHERE s.standard_id = $4
UNION ALL
SELECT 'working_standard', {_STANDARD} FROM replica_standards s WHERE s.standard_id = $5
UNION ALL
SELECT 'link', json_build_object('standard', row_to_json(s), 'recalibration', (
    SELECT json_build_object('number', c.number, 'performed_on', c.performed_on, 'valid_until', c.valid_until)
    FROM certificates c
    WHERE c.subject_id = s.standard_id AND c.subject = 'standard' AND c.kind = 'calibration'
      AND c.performed_on <= $7::date AND c.valid_until IS NOT NULL AND (c.revoked_on IS NULL OR c.revoked_on > $7::date)
    ORDER BY c.performed_on DESC LIMIT 1))::text
FROM walk w JOIN replica_standards s ON s.standard_id = w.standard_id
UNION ALL
SELECT 'outcome', json_build_object(
    'job_id', j.job_id, 'performed_on', j.performed_on, 'result', j.result, 'provider_local', j.provider_local,
    'valid_until', c.valid_until, 'revoked_on', c.revoked_on)::text
FROM jobs j LEFT JOIN certificates c ON c.job_id = j.job_id
WHERE $8::bool AND j.kind = 'verification' AND j.subject = 'instrument' AND j.subject_id = $3
UNION ALL
SELECT 'known_job', json_build_object('job_id', k.job_id)::text
FROM jobs k WHERE k.tenant = $9 AND k.provider_id = $1 AND k.external_reference = $10
"""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One verification of an instrument, as `due_dates.due_row` reads it."""

    job_id: str
    performed_on: date
    result: str
    provider_local: bool
    valid_until: date | None
    revoked_on: date | None


@dataclass(frozen=True, slots=True)
class JobReads:
    provider_tenant: str | None
    facts: Facts
    instrument_tenant: str | None
    chain: tuple[TraceabilityLink, ...]
    outcomes: list[Outcome]  # the instrument's verifications so far, by date performed
    known_job: str | None  # the job the provider already recorded under the work's external reference


async def read_job_facts(driver: Any, tenant: str, work: Work, with_chain: bool, with_outcomes: bool) -> JobReads:
    instrument_id = work.subject_id if work.subject == "instrument" else None
    standard_id = work.subject_id if work.subject == "standard" else None
    rows: dict[str, list[dict[str, Any]]] = {}
    for kind, text in await driver.fetch(
        READ_FACTS,
        work.provider_id,
        work.verifier_id,
        instrument_id,
        standard_id,
        work.working_standard_id,
        with_chain,
        work.performed_on,
        with_outcomes and instrument_id is not None,
        tenant,
        work.external_reference,
    ):
        rows.setdefault(kind, []).append(loads_json(text))
    provider = _first(rows, "provider")
    instrument = _first(rows, "instrument")
    facts = Facts(
        provider=None if provider is None else _provider(provider, rows.get("designation", [])),
        verifier=_map(_verifier, _first(rows, "verifier")),
        instrument=_map(_instrument, instrument),
        standard_subject=_map(_standard, _first(rows, "standard_subject")),
        working_standard=_map(_standard, _first(rows, "working_standard")),
    )
    links = {row["standard"]["standard_id"]: _link(row) for row in rows.get("link", [])}
    outcomes = sorted((_outcome(row) for row in rows.get("outcome", [])), key=lambda o: o.performed_on)
    known = _first(rows, "known_job")
    return JobReads(
        provider_tenant=None if provider is None else provider["tenant"],
        facts=facts,
        instrument_tenant=None if instrument is None else instrument["tenant"],
        chain=tuple(chain(work.working_standard_id, links.get)) if with_chain and work.working_standard_id else (),
        outcomes=outcomes,
        known_job=None if known is None else known["job_id"],
    )


def _first(rows: dict[str, list[dict[str, Any]]], kind: str) -> dict[str, Any] | None:
    found = rows.get(kind)
    return found[0] if found else None


def _map(convert: Any, row: dict[str, Any] | None) -> Any:
    return None if row is None else convert(row)


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _days(pairs: Iterable[list[str]]) -> tuple[tuple[date, date], ...]:
    return tuple((date.fromisoformat(first), date.fromisoformat(second)) for first, second in pairs)


def _provider(row: dict[str, Any], designations: list[dict[str, Any]]) -> Provider:
    ordered = sorted(designations, key=lambda d: d["designation_id"])
    return Provider(row["provider_id"], row["name"], row["province_code"], tuple(_designation(d) for d in ordered))


def _designation(row: dict[str, Any]) -> Designation:
    return Designation(
        designation_id=row["designation_id"],
        instrument_types=frozenset(row["instrument_types"]),
        fields=frozenset(row["fields"]),
        valid_from=date.fromisoformat(row["valid_from"]),
        valid_until=date.fromisoformat(row["valid_until"]),
        renewals=_days(row["renewals"]),
        revoked_on=_day(row["revoked_on"]),
    )


def _verifier(row: dict[str, Any]) -> Verifier:
    return Verifier(
        verifier_id=row["verifier_id"],
        provider_id=row["provider_id"],
        card_number=row["card_number"],
        fields=frozenset(row["fields"]),
        certified_on=date.fromisoformat(row["certified_on"]),
        suspensions=tuple((date.fromisoformat(on), bool(suspended)) for on, suspended in row["suspensions"]),
        card_valid_until=_day(row["card_valid_until"]),
    )


def _instrument(row: dict[str, Any]) -> Instrument:
    return Instrument(
        instrument_id=row["instrument_id"],
        type_code=row["type_code"],
        serial=row["serial"],
        owner_enterprise_id=row["owner_enterprise_id"],
        province_code=row["province_code"],
        commune_code=row["commune_code"],
        registered_on=date.fromisoformat(row["registered_on"]),
        status_changes=tuple((date.fromisoformat(on), status) for on, status in row["status_changes"]),
    )


def _standard(row: dict[str, Any]) -> Standard:
    return Standard(
        row["standard_id"],
        row["owner_id"],
        row["level"],
        date.fromisoformat(row["calibrated_on"]),
        date.fromisoformat(row["due_on"]),
        _days(row["recalibrations"]),
    )


def _link(row: dict[str, Any]) -> TraceabilityLink:
    """As `application.traceability` builds a link: the registry's calibration, or a later one certified here."""
    standard, recalibration = row["standard"], row["recalibration"]
    number, calibrated_on = standard["certificate_number"], date.fromisoformat(standard["calibrated_on"])
    due_on = date.fromisoformat(standard["due_on"])
    if recalibration is not None and date.fromisoformat(recalibration["performed_on"]) >= calibrated_on:
        number = recalibration["number"]
        calibrated_on = date.fromisoformat(recalibration["performed_on"])
        due_on = date.fromisoformat(recalibration["valid_until"])
    return TraceabilityLink(
        standard_id=standard["standard_id"],
        name=standard["name"],
        level=standard["level"],
        quantity=standard["quantity"],
        certificate_number=number,
        calibrated_on=calibrated_on,
        due_on=due_on,
        calibrated_against=standard["calibrated_against"],
        national_standard=standard["national_standard"],
    )


def _outcome(row: dict[str, Any]) -> Outcome:
    return Outcome(
        job_id=row["job_id"],
        performed_on=date.fromisoformat(row["performed_on"]),
        result=row["result"],
        provider_local=bool(row["provider_local"]),
        valid_until=_day(row["valid_until"]),
        revoked_on=_day(row["revoked_on"]),
    )


# --- the writes: job, certificate (when issued) and due date (when a verification of a known instrument) ------

_JOB_COLUMNS = [c.name for c in jobs.columns]
_CERTIFICATE_COLUMNS = [c.name for c in certificates.columns]
_DUE_COLUMNS = [c.name for c in instrument_due.columns]
_JSON_COLUMNS = {"measurements", "traceability"}


def _values(columns: list[str], first: int, table: sa.Table) -> str:
    """Typed parameters, never with a length (a cast to varchar(n) would cut a long value instead of refusing it)."""
    return ", ".join(f"${n}::{_SQL_TYPES[type(table.c[name].type)]}" for n, name in enumerate(columns, start=first))


_SQL_TYPES = {sa.String: "text", sa.Date: "date", sa.Boolean: "boolean", sa.JSON: "json", sa.Integer: "integer"}


@cache
def _job_views() -> Views:
    job_at = VIEW_PARAMETERS_FROM
    certificate_at = job_at + len(_JOB_COLUMNS)
    due_at = certificate_at + len(_CERTIFICATE_COLUMNS) + 1
    flag_certificate, flag_due = certificate_at + len(_CERTIFICATE_COLUMNS), due_at + len(_DUE_COLUMNS)
    due_updates = ", ".join(f"{name} = excluded.{name}" for name in _DUE_COLUMNS if name != "instrument_id")
    ctes = f"""job AS (
    INSERT INTO jobs ({", ".join(_JOB_COLUMNS)})
    SELECT {_values(_JOB_COLUMNS, job_at, jobs)} FROM guard WHERE guard.ok
    ON CONFLICT (tenant, provider_id, external_reference) DO NOTHING
    RETURNING job_id
), certificate AS (
    INSERT INTO certificates ({", ".join(_CERTIFICATE_COLUMNS)})
    SELECT {_values(_CERTIFICATE_COLUMNS, certificate_at, certificates)} FROM job WHERE ${flag_certificate}::bool
), due AS (
    INSERT INTO instrument_due ({", ".join(_DUE_COLUMNS)})
    SELECT {_values(_DUE_COLUMNS, due_at, instrument_due)} FROM job WHERE ${flag_due}::bool
    ON CONFLICT (instrument_id) DO UPDATE SET {due_updates}
)"""
    return Views(ctes, gate="job")


def job_writes(job: dict[str, Any], certificate: dict[str, Any] | None, due: dict[str, Any] | None) -> ViewWrites:
    """The job, its certificate (when issued) and due date (when a verification of a known instrument), beside
    the job's events in one statement (`UnitOfWork.append_with_views`). A taken external reference leaves `job`
    empty, so nothing is written."""
    values = [job[name] for name in _JOB_COLUMNS]
    values += [*_row_parameters(_CERTIFICATE_COLUMNS, certificate), certificate is not None]
    values += [*_row_parameters(_DUE_COLUMNS, due), due is not None]
    return ViewWrites(_job_views(), values)


def _row_parameters(columns: list[str], row: dict[str, Any] | None) -> list[Any]:
    if row is None:
        return [None] * len(columns)
    return [_json(row[name]) if name in _JSON_COLUMNS else row[name] for name in columns]


def _json(value: Any) -> str:
    return json.dumps(value)  # None as JSON null, as SQLAlchemy's JSON type stores it
