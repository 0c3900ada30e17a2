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

from metrology.eventkit.database import DatabaseSession, dialect_of
from metrology.reporting.adapters import readmodel as rm

CHUNK = 500  # keys per statement (well under SQLite's bound on parameters)
AGGREGATES_LOCK_CLASS = 7_406_101  # one batch at a time recomputes a tenant's aggregates (per database)


async def serialise_aggregates(session: DatabaseSession, tenants: Iterable[str]) -> None:
    """Wait until no other transaction is writing these tenants' facts and aggregates, and hold that until commit.

    Two consumers of the projector's group may fold facts of one instrument, trainee or enterprise at the same
    time. Each recomputes from the facts it can see and neither sees the other's uncommitted rows, so one result
    would be lost. Taken before the batch writes anything, the later batch writes and recomputes only after the
    earlier one committed, and sees its rows (READ COMMITTED takes a snapshot per statement). SQLite has one
    writer at a time already.
    """
    if dialect_of(session) != "postgresql":
        return
    for tenant in sorted(set(tenants)):  # a fixed order: two batches never wait on each other in a cycle
        await session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:cls, hashtext(:tenant))"),
            {"cls": AGGREGATES_LOCK_CLASS, "tenant": tenant},
        )


def _insert(session: DatabaseSession, table: sa.Table) -> Any:
    dialect = dialect_of(session)
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


async def refresh_first_completions(session: DatabaseSession, trainees: Iterable[tuple[str, str]]) -> None:
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


async def refresh_demand_dates(session: DatabaseSession, instruments: Iterable[tuple[str, str]]) -> None:
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


async def refresh_enrolled_jobs(
    session: DatabaseSession,
    jobs: Iterable[tuple[str, str]],
    enterprises: Iterable[tuple[str, str]],
    participations: Iterable[tuple[str, str]],
) -> None:
    """Set the `enrolled` flag of the (tenant, job key)s written, and of every job of the enterprises whose
    enrolments (tenant, enterprise) or withdrawals (tenant, participation) were written, from those stored."""
    j, e, w = rm.enterprise_jobs, rm.enrolments, rm.withdrawals
    spans = e.outerjoin(w, sa.and_(w.c.tenant == e.c.tenant, w.c.participation_id == e.c.participation_id))
    enrolled = (
        sa.select(e.c.participation_id)
        .select_from(spans)
        .where(e.c.tenant == j.c.tenant, e.c.enterprise_id == j.c.enterprise_id, e.c.enrolled_on <= j.c.occurred_on)
        .where(sa.or_(w.c.withdrawn_on.is_(None), w.c.withdrawn_on > j.c.occurred_on))
        .correlate(j)
        .exists()
    )
    for tenant, keys in sorted(_by_tenant(jobs).items()):
        for chunk in _chunks(keys):
            await session.execute(
                sa.update(j).where(j.c.tenant == tenant, j.c.job_key.in_(chunk)).values(enrolled=enrolled)
            )
    changed = _by_tenant(enterprises)
    for tenant, ids in _by_tenant(participations).items():
        for chunk in _chunks(ids):
            of = sa.select(e.c.enterprise_id).where(e.c.tenant == tenant, e.c.participation_id.in_(chunk))
            changed.setdefault(tenant, set()).update(await session.scalars(of))
    for tenant, ids in sorted(changed.items()):
        for chunk in _chunks(ids):
            await session.execute(
                sa.update(j).where(j.c.tenant == tenant, j.c.enterprise_id.in_(chunk)).values(enrolled=enrolled)
            )


def _chunks(keys: set[str]) -> list[list[str]]:
    ordered = sorted(keys)
    return [ordered[k : k + CHUNK] for k in range(0, len(ordered), CHUNK)]


def _by_tenant(keys: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for tenant, key in keys:
        grouped.setdefault(tenant, set()).add(key)
    return grouped
