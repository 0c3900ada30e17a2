"""Aggregates the projection keeps beside the facts, in the batch's transaction, so reads sum small tables.

Each aggregate is recomputed from the stored facts for the keys a batch wrote, after the facts are written: a
redelivered or repeated fact (stored once) cannot count twice, and a rebuild empties the aggregates with the
facts (they are fact tables to `reset` and ANALYZE). A replay from the start leaves them alone batch by batch and
`DERIVATIONS` derive them once at its end, from the same selects without the keys: three chains that read
different facts and write different aggregates, run side by side.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from metrology.eventkit.database import DatabaseSession, dialect_of
from metrology.reporting.adapters import readmodel as rm

K = TypeVar("K", str, date)  # a key of an aggregate: an id or a day
CHUNK = 500  # keys per statement (well under SQLite's bound on parameters)
AGGREGATES_LOCK_CLASS = 7_406_101  # one batch at a time recomputes a tenant's aggregates (per database)
EVALUATIONS_LOCK_CLASS = 7_406_102  # one status evaluation at a time compares and publishes a plan's statuses


async def serialise_aggregates(session: DatabaseSession, tenants: Iterable[str], *, shared: bool = False) -> None:
    """Wait until no other transaction is writing these tenants' facts and aggregates, and hold that until commit.

    Two consumers of the projector's group may fold facts of one instrument, trainee or enterprise at the same
    time. Each recomputes from the facts it can see and neither sees the other's uncommitted rows, so one result
    would be lost. Taken before the batch writes anything, the later batch writes and recomputes only after the
    earlier one committed, and sees its rows (READ COMMITTED takes a snapshot per statement). SQLite has one
    writer at a time already.

    `shared`: for the derivations at the end of a replay, which write different aggregates and run side by side:
    they hold the lock together, and a live batch waits for all of them (and they for it).
    """
    if dialect_of(session) != "postgresql":
        return
    lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    for tenant in sorted(set(tenants)):  # a fixed order: two batches never wait on each other in a cycle
        await session.execute(
            sa.text(f"SELECT {lock}(:cls, hashtext(:tenant))"), {"cls": AGGREGATES_LOCK_CLASS, "tenant": tenant}
        )


async def serialise_evaluations(session: DatabaseSession, plan_ids: Iterable[str]) -> None:
    """Wait until no other transaction is evaluating these plans' target statuses, and hold that until commit.

    An evaluation reads each target's last published status, then appends `target-status-changed` when it moved:
    two at once would both see the old status and publish the change twice. Batches do not take this lock unless
    they evaluate, so an evaluation reading its targets holds no batch back. Taken before anything is read (READ
    COMMITTED: each later statement sees what the evaluation before committed). SQLite has one writer at a time.
    """
    if dialect_of(session) != "postgresql":
        return
    for plan_id in sorted(set(plan_ids)):  # a fixed order, as for the aggregates
        await session.execute(
            sa.text("SELECT pg_advisory_xact_lock(:cls, hashtext(:plan))"),
            {"cls": EVALUATIONS_LOCK_CLASS, "plan": plan_id},
        )


def _insert(session: DatabaseSession, table: sa.Table) -> Any:
    dialect = dialect_of(session)
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


async def refresh_first_completions(session: DatabaseSession, trainees: Iterable[tuple[str, str]]) -> None:
    """Set the first passed completion day of each (tenant, trainee) from the completions stored, then move the
    count of first completions per day by what moved: a trainee whose first day changed leaves the old day and
    joins the new one. The work is the batch's trainees, not every trainee of the days they touch (at a hundred
    completions a second, thousands on one day)."""
    t = rm.trainees
    for tenant, ids in sorted(_by_tenant(trainees).items()):
        for chunk in _chunks(ids):
            known = sa.select(t.c.trainee_id, t.c.first_completed_on).where(
                t.c.tenant == tenant, t.c.trainee_id.in_(chunk)
            )
            before = dict((await session.execute(known)).tuples().all())
            statement = _insert(session, t).from_select(TRAINEE_COLUMNS, first_completions_of(tenant, chunk))
            upserted = statement.on_conflict_do_update(
                index_elements=[t.c.tenant, t.c.trainee_id],
                set_={"first_completed_on": statement.excluded.first_completed_on},
            )
            after = (await session.execute(upserted.returning(t.c.trainee_id, t.c.first_completed_on))).tuples()
            await _move_first_days(session, tenant, _moves(before, after.all()))


TRAINEE_COLUMNS = ["tenant", "trainee_id", "first_completed_on"]


def first_completions_of(tenant: str | None, chunk: list[str] | None) -> Any:
    """Each trainee's first passed completion day, of `chunk`'s trainees of `tenant` (every one when None)."""
    c = rm.completions
    where = [c.c.passed.is_(True), *_where(c, "trainee_id", tenant, chunk)]
    return (
        sa.select(c.c.tenant, c.c.trainee_id, sa.func.min(c.c.completed_on))
        .where(*where)
        .group_by(c.c.tenant, c.c.trainee_id)
    )


def _moves(before: dict[str, date], after: Iterable[tuple[str, date]]) -> dict[date, int]:
    """How many first completions each day gains (or loses) when the trainees' first days go from `before` to
    `after`; days that do not move are left out."""
    moves: dict[date, int] = {}
    for trainee, day in after:
        old = before.get(trainee)
        if old == day:
            continue
        if old is not None:
            moves[old] = moves.get(old, 0) - 1
        moves[day] = moves.get(day, 0) + 1
    return {day: n for day, n in moves.items() if n}


async def _move_first_days(session: DatabaseSession, tenant: str, moves: dict[date, int]) -> None:
    """Add `moves` to the kept first completions per day; a day left with none is removed."""
    kept = rm.first_days
    await _add_per_day(session, tenant, moves, kept.c.first_completed_on, kept.c.trainees)


async def _add_per_day(
    session: DatabaseSession, tenant: str, changes: dict[date, int], day: sa.Column[Any], count: sa.Column[Any]
) -> None:
    """Add `changes` to `count` of the kept rows per (tenant, `day`); a day left at none is removed."""
    if not changes:
        return
    kept = day.table
    rows = [{"tenant": tenant, "day": on, "n": n} for on, n in sorted(changes.items())]
    await session.execute(_adding_per_day(day, count), rows)
    emptied = [on for on, n in changes.items() if n < 0]
    if emptied:
        await session.execute(sa.delete(kept).where(kept.c.tenant == tenant, day.in_(emptied), count <= 0))


@functools.cache
def _adding_per_day(day: sa.Column[Any], count: sa.Column[Any]) -> sa.TextClause:
    """`_add_per_day`'s upsert, one statement for both databases (they share its syntax), built once per table: a
    live batch runs it, and SQLAlchemy 2.0 compiles a dialect's INSERT .. ON CONFLICT again on each execution (it
    has no cache key)."""
    table = day.table.name
    return sa.text(
        f"INSERT INTO {table} (tenant, {day.name}, {count.name}) VALUES (:tenant, :day, :n) "
        f"ON CONFLICT (tenant, {day.name}) DO UPDATE SET {count.name} = {table}.{count.name} + excluded.{count.name}"
    ).bindparams(
        sa.bindparam("tenant", type_=day.table.c.tenant.type),
        sa.bindparam("day", type_=day.type),
        sa.bindparam("n", type_=count.type),
    )


FIRST_DAY_COLUMNS = ["tenant", "first_completed_on", "trainees"]


def first_days_of(tenant: str | None, days: set[Any] | None) -> Any:
    """How many trainees first passed on each of `days` (every day when None) for `tenant` (every one when None)."""
    t = rm.trainees
    where = _where(t, "first_completed_on", tenant, days)
    return (
        sa.select(t.c.tenant, t.c.first_completed_on, sa.func.count())
        .where(*where)
        .group_by(t.c.tenant, t.c.first_completed_on)
    )


async def refresh_course_days(session: DatabaseSession, courses: Iterable[tuple[str, str]]) -> None:
    """Write again the passed completions per day of each (tenant, course) from the completions stored, and move
    the completions per day (every course summed) by what the rows written again changed."""
    kept, days = rm.course_days, rm.training_days
    for tenant, ids in sorted(_by_tenant(courses).items()):
        for chunk in _chunks(ids):
            mine = [kept.c.tenant == tenant, kept.c.course_id.in_(chunk)]
            counted = (kept.c.completed_on, kept.c.completions)
            before = (await session.execute(sa.delete(kept).where(*mine).returning(*counted))).tuples().all()
            recount = sa.insert(kept).from_select(COURSE_DAY_COLUMNS, course_days_of(tenant, chunk))
            after = (await session.execute(recount.returning(*counted))).tuples().all()
            await _add_per_day(session, tenant, _changes(before, after), days.c.completed_on, days.c.completions)


def _changes(before: Iterable[tuple[date, int]], after: Iterable[tuple[date, int]]) -> dict[date, int]:
    """How much each day's count moves when rows counting (day, n) go from `before` to `after`; days that do not
    move are left out."""
    changes: dict[date, int] = {}
    for day, n in after:
        changes[day] = changes.get(day, 0) + n
    for day, n in before:
        changes[day] = changes.get(day, 0) - n
    return {day: n for day, n in changes.items() if n}


COURSE_DAY_COLUMNS = ["tenant", "course_id", "completed_on", "completions"]
TRAINING_DAY_COLUMNS = ["tenant", "completed_on", "completions"]


def training_days_of() -> Any:
    """The passed completions per day of every tenant, from the kept completions per course and day."""
    k = rm.course_days
    return sa.select(k.c.tenant, k.c.completed_on, sa.func.sum(k.c.completions)).group_by(k.c.tenant, k.c.completed_on)


def course_days_of(tenant: str | None, chunk: list[str] | None) -> Any:
    """The passed completions per day of `chunk`'s courses of `tenant` (every one when None)."""
    c = rm.completions
    where = [c.c.passed.is_(True), *_where(c, "course_id", tenant, chunk)]
    columns = (c.c.tenant, c.c.course_id, c.c.completed_on)
    return sa.select(*columns, sa.func.count()).where(*where).group_by(*columns)


async def refresh_demand_dates(session: DatabaseSession, instruments: Iterable[tuple[str, str]]) -> None:
    """Write again the demand dates of each (tenant, instrument) from its due dates, registration and retirement
    (each with the instrument's previous demand date), then its verifications with their neighbours (see
    `rm.verification_dates`) from the verifications and those demand dates."""
    for tenant, ids in sorted(_by_tenant(instruments).items()):
        for chunk in _chunks(ids):
            await session.execute(demand_dates_of(tenant, chunk, delete=True))
            await session.execute(demand_dates_of(tenant, chunk))
            await session.execute(verification_dates_of(tenant, chunk, delete=True))
            await session.execute(verification_dates_of(tenant, chunk))


DEMAND_COLUMNS = ["tenant", "instrument_id", "source", "due_on", "type_code", "commune_code", "prev_due_on"]
VERIFICATION_COLUMNS = [
    "tenant",
    "instrument_id",
    "job_id",
    "provider_id",
    "provider_province_code",
    "verified_on",
    "type_code",
    "commune_code",
    "prev_same_province_on",
    "prev_verified_on",
    "due_before_on",
    "due_after_on",
]


def demand_dates_of(tenant: str | None, chunk: list[str] | None, *, delete: bool = False) -> Any:
    """The statement that deletes (`delete`) or inserts the demand dates of `chunk`'s instruments of `tenant`
    (every instrument when `chunk` is None, every tenant when `tenant` is None too: the migration's fill)."""
    d, i, r, demand = rm.due_dates, rm.instruments, rm.retirements, rm.demand_dates
    if delete:
        return sa.delete(demand).where(*_of(demand, tenant, chunk))
    previous = sa.func.lag(d.c.due_on).over(
        partition_by=(d.c.tenant, d.c.instrument_id), order_by=(d.c.due_on, d.c.source)
    )
    due = (
        sa.select(d.c.tenant, d.c.instrument_id, d.c.source, d.c.due_on, i.c.type_code, i.c.commune_code, previous)
        .join(i, sa.and_(i.c.tenant == d.c.tenant, i.c.instrument_id == d.c.instrument_id))
        .outerjoin(r, sa.and_(r.c.tenant == d.c.tenant, r.c.instrument_id == d.c.instrument_id))
        .where(*_of(d, tenant, chunk))
        .where(sa.or_(r.c.retired_on.is_(None), r.c.retired_on >= d.c.due_on))
    )
    return sa.insert(demand).from_select(DEMAND_COLUMNS, due)


def verification_dates_of(tenant: str | None, chunk: list[str] | None, *, delete: bool = False) -> Any:
    """As `demand_dates_of`, for the verifications with their neighbours (after the demand dates are written).

    Each verification's nearest demand dates (the latest on or before it, the earliest on or after it) come from one
    ordered pass over the instrument's demand and verification dates together (windows over the day, its peers
    included), not from two lookups per verification."""
    v, i, m, kept = rm.verifications, rm.instruments, rm.demand_dates, rm.verification_dates
    if delete:
        return sa.delete(kept).where(*_of(kept, tenant, chunk))
    text, day = sa.String(), sa.Date()
    dates = sa.union_all(
        sa.select(
            m.c.tenant,
            m.c.instrument_id,
            m.c.due_on.label("day"),
            m.c.due_on.label("due_on"),
            sa.cast(sa.null(), text).label("job_id"),
            sa.cast(sa.null(), text).label("provider_id"),
            sa.cast(sa.null(), text).label("provider_province_code"),
        ).where(*_of(m, tenant, chunk)),
        sa.select(
            v.c.tenant,
            v.c.instrument_id,
            v.c.verified_on,
            sa.cast(sa.null(), day),
            v.c.job_id,
            v.c.provider_id,
            v.c.provider_province_code,
        ).where(*_of(v, tenant, chunk)),
    ).subquery("dates")
    instrument, by_day = (dates.c.tenant, dates.c.instrument_id), dates.c.day
    near = sa.select(
        dates.c.tenant,
        dates.c.instrument_id,
        dates.c.job_id,
        dates.c.provider_id,
        dates.c.provider_province_code,
        dates.c.day.label("verified_on"),
        sa.func.max(dates.c.due_on)
        .over(partition_by=instrument, order_by=by_day, range_=(None, 0))
        .label("due_before_on"),
        sa.func.min(dates.c.due_on)
        .over(partition_by=instrument, order_by=by_day, range_=(0, None))
        .label("due_after_on"),
    ).subquery("near")
    order = (near.c.verified_on, near.c.job_id)
    same = sa.func.lag(near.c.verified_on).over(
        partition_by=(near.c.tenant, near.c.instrument_id, near.c.provider_province_code), order_by=order
    )
    previous = sa.func.lag(near.c.verified_on).over(partition_by=(near.c.tenant, near.c.instrument_id), order_by=order)
    of_near = sa.and_(i.c.tenant == near.c.tenant, i.c.instrument_id == near.c.instrument_id)
    rows = (
        sa.select(
            near.c.tenant,
            near.c.instrument_id,
            near.c.job_id,
            near.c.provider_id,
            near.c.provider_province_code,
            near.c.verified_on,
            i.c.type_code,
            i.c.commune_code,
            same,
            previous,
            near.c.due_before_on,
            near.c.due_after_on,
        )
        .select_from(near.outerjoin(i, of_near))
        .where(near.c.job_id.is_not(None))
    )
    return sa.insert(kept).from_select(VERIFICATION_COLUMNS, rows)


def _of(table: sa.Table, tenant: str | None, chunk: list[str] | None) -> list[Any]:
    return _where(table, "instrument_id", tenant, chunk)


def _where(table: sa.Table, column: str, tenant: str | None, keys: Iterable[Any] | None) -> list[Any]:
    """`table`'s rows of `tenant` whose `column` is one of `keys` (no condition for what is None)."""
    where = [] if tenant is None else [table.c.tenant == tenant]
    if keys is not None:
        where.append(table.c[column].in_(keys))
    return where


async def refresh_enrolled_jobs(
    session: DatabaseSession,
    jobs: Iterable[tuple[str, str]],
    enterprises: Iterable[tuple[str, str]],
    participations: Iterable[tuple[str, str]],
) -> set[tuple[str, str]]:
    """Set the `enrolled` flag of the (tenant, job key)s written, and of every job of the enterprises whose
    enrolments (tenant, enterprise) or withdrawals (tenant, participation) were written, from those stored;
    returns those enterprises (every job of theirs may have changed)."""
    e = rm.enrolments
    for tenant, keys in sorted(_by_tenant(jobs).items()):
        for chunk in _chunks(keys):
            await session.execute(flag_enrolled_jobs(tenant, "job_key", chunk))
    changed = _by_tenant(enterprises)
    for tenant, ids in _by_tenant(participations).items():
        for chunk in _chunks(ids):
            of = sa.select(e.c.enterprise_id).where(e.c.tenant == tenant, e.c.participation_id.in_(chunk))
            changed.setdefault(tenant, set()).update(await session.scalars(of))
    for tenant, ids in sorted(changed.items()):
        for chunk in _chunks(ids):
            await session.execute(flag_enrolled_jobs(tenant, "enterprise_id", chunk))
    return {(tenant, enterprise_id) for tenant, ids in changed.items() for enterprise_id in ids}


def flag_enrolled_jobs(tenant: str, column: str, keys: list[str]) -> Any:
    """The statement that sets `enrolled` on the jobs of `tenant` whose `column` is one of `keys`: whether the
    enterprise took part in the programme on the job's date (`flag_every_job_enrolled` sets every job's)."""
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
    return sa.update(j).where(*_where(j, column, tenant, keys)).values(enrolled=enrolled)


async def refresh_enterprise_days(
    session: DatabaseSession, written: Iterable[tuple[str, str, Any]], changed: Iterable[tuple[str, str]]
) -> None:
    """Write again the enrolled jobs per day (`rm.enterprise_days`) of the days the (tenant, enterprise, day)s of
    the jobs written fall on and of every day a job of the (tenant, enterprise)s `changed` (enrolments, withdrawals,
    sector or commune) falls on; and the first enrolled job of all those enterprises (`rm.enterprise_firsts`)."""
    j = rm.enterprise_jobs
    days = _by_tenant((tenant, day) for tenant, _, day in written)
    enterprises = _by_tenant((tenant, enterprise_id) for tenant, enterprise_id, _ in written)
    for tenant, ids in sorted(_by_tenant(changed).items()):
        enterprises.setdefault(tenant, set()).update(ids)
        for chunk in _chunks(ids):
            of = sa.select(j.c.occurred_on).where(j.c.tenant == tenant, j.c.enterprise_id.in_(chunk)).distinct()
            days.setdefault(tenant, set()).update(await session.scalars(of))
    firsts, kept = rm.enterprise_firsts, rm.enterprise_days
    for tenant, ids in sorted(enterprises.items()):
        for chunk in _chunks(ids):
            await session.execute(sa.delete(firsts).where(*_where(firsts, "enterprise_id", tenant, chunk)))
            await session.execute(sa.insert(firsts).from_select(FIRST_JOB_COLUMNS, enterprise_firsts_of(tenant, chunk)))
    for tenant, dates in sorted(days.items()):
        for chunk in _chunks(dates):
            await session.execute(sa.delete(kept).where(*_where(kept, "occurred_on", tenant, chunk)))
            await session.execute(
                sa.insert(kept).from_select(ENTERPRISE_DAY_COLUMNS, enterprise_days_of(tenant, chunk))
            )


ENTERPRISE_DAY_COLUMNS = ["tenant", "occurred_on", "dimension", "key", "jobs"]
FIRST_JOB_COLUMNS = ["tenant", "enterprise_id", "first_on"]


def enterprise_days_of(tenant: str | None, days: list[Any] | None) -> Any:
    """The enrolled jobs of `days` (every day when None) of `tenant` (every one when None), counted per day and
    channel, per day and sector, per day and commune of the enterprise (NULL when it is not registered)."""
    j, e = rm.enterprise_jobs, rm.enterprises
    joined = j.outerjoin(e, sa.and_(e.c.tenant == j.c.tenant, e.c.enterprise_id == j.c.enterprise_id))
    where = [j.c.enrolled.is_(True), *_where(j, "occurred_on", tenant, days)]
    columns = dict(zip(rm.ENTERPRISE_DIMENSIONS, (j.c.channel, e.c.sector, e.c.commune_code), strict=True))
    return sa.union_all(
        *(
            sa.select(j.c.tenant, j.c.occurred_on, sa.literal(name, sa.String()), column, sa.func.count())
            .select_from(joined)
            .where(*where)
            .group_by(j.c.tenant, j.c.occurred_on, column)
            for name, column in columns.items()
        )
    )


def enterprise_firsts_of(tenant: str | None, enterprises: list[str] | None) -> Any:
    """The date of the first enrolled job of `enterprises` (every one when None) of `tenant` (every one)."""
    j = rm.enterprise_jobs
    where = [j.c.enrolled.is_(True), *_where(j, "enterprise_id", tenant, enterprises)]
    return (
        sa.select(j.c.tenant, j.c.enterprise_id, sa.func.min(j.c.occurred_on))
        .where(*where)
        .group_by(j.c.tenant, j.c.enterprise_id)
    )


async def _analyze(session: DatabaseSession, *tables: sa.Table) -> None:
    """Fresh planner statistics for tables this transaction filled (a replay starts from empty tables, and a plan
    made for an empty table looks every row up by scanning it)."""
    if dialect_of(session) == "postgresql":
        for table in tables:
            await session.execute(sa.text(f"ANALYZE {table.name}"))


async def _without_jit(session: DatabaseSession) -> None:
    """No JIT compilation for this transaction: each derivation is one pass over its rows, and PostgreSQL spent
    0.6 s compiling the verification dates' statement alone (1,000,000 events) to gain nothing back."""
    if dialect_of(session) == "postgresql":
        await session.execute(sa.text("SET LOCAL jit = off"))


async def tenants_of_the_read_model(session: DatabaseSession) -> set[str]:
    """The tenants whose facts a batch has written: each such batch moved its tenant's read-model version (a row
    a tenant, where the facts' own tables hold a million)."""
    return set(await session.scalars(sa.select(rm.read_model_versions.c.tenant)))


async def derive_demand_and_verification_dates(session: DatabaseSession) -> None:
    """Demand dates from the instruments, retirements and due dates; then each verification's neighbours."""
    await _side_by_side(session)
    await _analyze(session, rm.instruments, rm.retirements, rm.due_dates, rm.verifications)
    await session.execute(sa.delete(rm.verification_dates))
    await session.execute(sa.delete(rm.demand_dates))
    await _indexed_after(session, rm.demand_dates, demand_dates_of(None, None))
    await _analyze(session, rm.demand_dates)  # each verification looks up its instrument's demand dates
    await _indexed_after(session, rm.verification_dates, verification_dates_of(None, None))


async def derive_training_days(session: DatabaseSession) -> None:
    """Each trainee's first completion, the first completions per day, the completions per course and day and per
    day."""
    await _side_by_side(session)
    await _analyze(session, rm.completions)
    for table in (rm.first_days, rm.trainees, rm.course_days, rm.training_days):
        await session.execute(sa.delete(table))
    trainees = sa.insert(rm.trainees).from_select(TRAINEE_COLUMNS, first_completions_of(None, None))
    await _indexed_after(session, rm.trainees, trainees)
    await _analyze(session, rm.trainees)
    await session.execute(sa.insert(rm.first_days).from_select(FIRST_DAY_COLUMNS, first_days_of(None, None)))
    course_days = sa.insert(rm.course_days).from_select(COURSE_DAY_COLUMNS, course_days_of(None, None))
    await _indexed_after(session, rm.course_days, course_days)
    await session.execute(sa.insert(rm.training_days).from_select(TRAINING_DAY_COLUMNS, training_days_of()))


async def derive_enterprise_days(session: DatabaseSession) -> None:
    """Each job's `enrolled` flag; then the enterprise counts per day and each enterprise's first enrolled job."""
    await _side_by_side(session)
    # the enterprises too: the counts join every job with its enterprise, and on statistics autovacuum took early
    # in the replay (266 enterprises of 2,500) the planner merged on the tenant alone and compared every job with
    # every enterprise: 30.5 s where a hash join takes 0.3 s (auto_explain, 1,000,000 events)
    await _analyze(session, rm.enterprise_jobs, rm.enrolments, rm.withdrawals, rm.enterprises)
    await session.execute(sa.delete(rm.enterprise_days))
    await session.execute(sa.delete(rm.enterprise_firsts))
    await _indexed_after(session, rm.enterprise_jobs, flag_every_job_enrolled())
    await _analyze(session, rm.enterprise_jobs)  # analysed before the flags were set: every job unflagged
    days = sa.insert(rm.enterprise_days).from_select(ENTERPRISE_DAY_COLUMNS, enterprise_days_of(None, None))
    await _indexed_after(session, rm.enterprise_days, days)
    firsts = sa.insert(rm.enterprise_firsts).from_select(FIRST_JOB_COLUMNS, enterprise_firsts_of(None, None))
    await _indexed_after(session, rm.enterprise_firsts, firsts)


async def _indexed_after(session: DatabaseSession, table: sa.Table, statement: Any) -> None:
    """Run `statement`, which writes (nearly) every row of `table`, with the table's secondary indexes dropped, and
    build them again after it: on PostgreSQL one sort per index instead of an index entry per row written. At a
    million events the demand and verification dates took 6.4–6.8 s this way against 8.5–8.7 s, and the jobs'
    `enrolled` flags 4.2–4.4 s against 5.8–6.4 s. The drop holds the table to this transaction until it commits:
    reads of the table wait for the derivation (a deadlock with one is retried by the runner)."""
    indexes = sorted(table.indexes, key=lambda index: str(index.name)) if dialect_of(session) == "postgresql" else []
    for index in indexes:
        await session.execute(sa.schema.DropIndex(index))
    await session.execute(statement)
    for index in indexes:
        await session.execute(sa.schema.CreateIndex(index))


async def _side_by_side(session: DatabaseSession) -> None:
    """What each derivation begins with: every tenant's aggregate lock, shared with the other derivations (a live
    batch waits for them), and no JIT."""
    await serialise_aggregates(session, await tenants_of_the_read_model(session), shared=True)
    await _without_jit(session)


# Independent of one another (each reads its own facts and writes its own aggregates): a replay runs them side by
# side, each in a transaction of its own.
DERIVATIONS = (derive_demand_and_verification_dates, derive_enterprise_days, derive_training_days)


def flag_every_job_enrolled() -> Any:
    """`flag_enrolled_jobs` for every job at once: one join of the jobs with the enrolments and withdrawals,
    grouped by job, instead of a lookup per job (380,000 jobs: 4.7 s against 15 s). Only the jobs whose flag
    changes are written: after a replay, which writes every job unflagged, the enrolled ones (248,576 of 380,000
    in `bench/reporting_million.py`'s catalogue: 3.5–4.0 s against 4.8–5.1 s for every job, and a rebuild's
    derivations 9.0–11.5 s against 12.4–13.0 s)."""
    j, e, w = rm.enterprise_jobs, rm.enrolments, rm.withdrawals
    jobs = j.alias("job")
    took_part = sa.and_(
        e.c.participation_id.is_not(None),
        e.c.enrolled_on <= jobs.c.occurred_on,
        sa.or_(w.c.withdrawn_on.is_(None), w.c.withdrawn_on > jobs.c.occurred_on),
    )
    spans = jobs.outerjoin(e, sa.and_(e.c.tenant == jobs.c.tenant, e.c.enterprise_id == jobs.c.enterprise_id))
    spans = spans.outerjoin(w, sa.and_(w.c.tenant == e.c.tenant, w.c.participation_id == e.c.participation_id))
    flags = (
        sa.select(jobs.c.tenant, jobs.c.job_key, sa.func.max(sa.case((took_part, 1), else_=0)).label("enrolled"))
        .select_from(spans)
        .group_by(jobs.c.tenant, jobs.c.job_key)
        .subquery("flags")
    )
    return (
        sa.update(j)
        .where(j.c.tenant == flags.c.tenant, j.c.job_key == flags.c.job_key)
        .where(j.c.enrolled.is_distinct_from(flags.c.enrolled == 1))
        .values(enrolled=flags.c.enrolled == 1)
    )


def _chunks(keys: set[K]) -> list[list[K]]:
    ordered = sorted(keys)
    return [ordered[k : k + CHUNK] for k in range(0, len(ordered), CHUNK)]


def _by_tenant(keys: Iterable[tuple[str, K]]) -> dict[str, set[K]]:
    grouped: dict[str, set[K]] = {}
    for tenant, key in keys:
        grouped.setdefault(tenant, set()).add(key)
    return grouped
