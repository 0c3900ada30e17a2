"""Aggregates the projection keeps beside the facts, in the batch's transaction, so reads sum small tables.

Each aggregate is recomputed from the stored facts for the keys a batch wrote, after the facts are written: a
redelivered or repeated fact (stored once) cannot count twice, and a rebuild empties the aggregates with the
facts (they are fact tables to `reset` and ANALYZE).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from metrology.reporting.adapters import readmodel as rm

CHUNK = 500  # keys per statement (well under SQLite's bound on parameters)


def _insert(session: AsyncSession, table: sa.Table) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


async def refresh_first_completions(session: AsyncSession, trainees: Iterable[tuple[str, str]]) -> None:
    """Set the first passed completion day of each (tenant, trainee) from the completions stored."""
    c, t = rm.completions, rm.trainees
    for tenant, ids in sorted(_by_tenant(trainees).items()):
        ordered = sorted(ids)
        for i in range(0, len(ordered), CHUNK):
            first = (
                sa.select(c.c.tenant, c.c.trainee_id, sa.func.min(c.c.completed_on))
                .where(c.c.tenant == tenant, c.c.trainee_id.in_(ordered[i : i + CHUNK]), c.c.passed.is_(True))
                .group_by(c.c.tenant, c.c.trainee_id)
            )
            statement = _insert(session, t).from_select(["tenant", "trainee_id", "first_completed_on"], first)
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=[t.c.tenant, t.c.trainee_id],
                    set_={"first_completed_on": statement.excluded.first_completed_on},
                )
            )


async def refresh_demand_dates(session: AsyncSession, instruments: Iterable[tuple[str, str]]) -> None:
    """Write again the demand dates of each (tenant, instrument) from its due dates, registration and retirement."""
    d, i, r, demand = rm.due_dates, rm.instruments, rm.retirements, rm.demand_dates
    columns = ["tenant", "instrument_id", "source", "due_on", "type_code", "commune_code"]
    for tenant, ids in sorted(_by_tenant(instruments).items()):
        ordered = sorted(ids)
        for k in range(0, len(ordered), CHUNK):
            chunk = ordered[k : k + CHUNK]
            await session.execute(sa.delete(demand).where(demand.c.tenant == tenant, demand.c.instrument_id.in_(chunk)))
            due = (
                sa.select(d.c.tenant, d.c.instrument_id, d.c.source, d.c.due_on, i.c.type_code, i.c.commune_code)
                .join(i, sa.and_(i.c.tenant == d.c.tenant, i.c.instrument_id == d.c.instrument_id))
                .outerjoin(r, sa.and_(r.c.tenant == d.c.tenant, r.c.instrument_id == d.c.instrument_id))
                .where(d.c.tenant == tenant, d.c.instrument_id.in_(chunk))
                .where(sa.or_(r.c.retired_on.is_(None), r.c.retired_on >= d.c.due_on))
            )
            await session.execute(sa.insert(demand).from_select(columns, due))


def _by_tenant(keys: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for tenant, key in keys:
        grouped.setdefault(tenant, set()).add(key)
    return grouped
