"""What changed since a report: the late facts (dated on or before the report's business date, recorded after it
was made) and each target's value then and now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.reporting.adapters import readmodel as rm
from metrology.reporting.application.progress import plan_progress
from metrology.reporting.domain.plan import Plan


@dataclass(frozen=True, slots=True)
class LateFact:
    kind: str  # the read-model table without its prefix: "training_completions", "verifications", ...
    key: dict[str, str]
    business_date: date
    recorded_at: datetime
    metrics: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TargetChange:
    target_id: str
    metric: str
    value_then: float
    value_now: float
    status_then: str
    status_now: str


@dataclass(frozen=True, slots=True)
class PlanChanges:
    targets: list[TargetChange]
    facts: list[LateFact]


def utc(moment: datetime) -> datetime:
    """Aware and in UTC (SQLite hands back the stored UTC times naive)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def late_facts(
    connection: AsyncConnection, tenant: str, as_of: date, since: datetime, until: datetime | None = None
) -> list[LateFact]:
    """Facts of the tenant dated on or before `as_of` and recorded after `since` (and at or before `until`),
    in the order they were recorded."""
    found: list[LateFact] = []
    for table, column in rm.BUSINESS_DATES.items():
        keys = [c for c in table.primary_key.columns if c.name != "tenant"]
        on = table.c[column]
        where = [table.c.tenant == tenant, on <= as_of, table.c.recorded_at > utc(since)]
        if until is not None:
            where.append(table.c.recorded_at <= utc(until))
        metrics = tuple(sorted(m.value for m in rm.METRICS_OF[table]))
        for row in await connection.execute(sa.select(*keys, on, table.c.recorded_at).where(*where)):
            key = {c.name: _text(row._mapping[c.name]) for c in keys}
            found.append(LateFact(_kind(table), key, row._mapping[column], utc(row.recorded_at), metrics))
    return sorted(found, key=lambda f: (f.recorded_at, f.kind, tuple(f.key.values())))


async def plan_changes(
    connection: AsyncConnection, plan: Plan, as_of: date, since: datetime, until: datetime | None = None
) -> PlanChanges:
    """Each target as of `as_of` as known at `since` (the report made then) and at `until` (default: now)."""
    then = await plan_progress(connection, plan, as_of, breakdowns=False, known_at=since)
    now = await plan_progress(connection, plan, as_of, breakdowns=False, known_at=until)
    targets = [
        TargetChange(a.target.id, a.target.metric.value, a.reading.value, b.reading.value, a.status, b.status)
        for a, b in zip(then, now, strict=True)
    ]
    return PlanChanges(targets, await late_facts(connection, plan.tenant, as_of, since, until))


def _kind(table: sa.Table) -> str:
    return table.name.removeprefix("kpi_")


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)
