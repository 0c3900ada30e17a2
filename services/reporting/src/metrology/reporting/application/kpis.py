"""KPI readings over the read model: every answer is "as of" a business date D, within a target's scope, and
"as known on" a recording time K when the scope names one (only the facts recorded at or before K count)."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.reporting.adapters import readmodel as rm
from metrology.reporting.domain import folds
from metrology.reporting.domain.calendar import rolling_year_start
from metrology.reporting.domain.plan import Metric, Plan, Target

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Scope:
    """Which facts a reading counts: the tenant, the counting window and the region."""

    tenant: str
    start: date | None = None
    end: date | None = None
    provinces: tuple[str, ...] = ()
    communes: tuple[str, ...] = ()
    criteria: str | None = None
    known_at: datetime | None = None

    @classmethod
    def of_target(cls, plan: Plan, target: Target, known_at: datetime | None = None) -> Scope:
        region = plan.region_of(target)
        provinces = region.provinces or plan.region.provinces
        return cls(
            plan.tenant,
            target.window.start,
            target.window.end,
            provinces,
            region.communes,
            target.criteria,
            known_at.astimezone(UTC) if known_at else None,
        )

    def facts(self, table: sa.Table) -> Any:
        """The table, or as known on `known_at` only its rows recorded by then (rows folded before the recording
        time was kept have none and count as always known)."""
        if self.known_at is None:
            return table
        known = sa.or_(table.c.recorded_at.is_(None), table.c.recorded_at <= self.known_at)
        return sa.select(table).where(known).subquery(f"{table.name}_known")

    def day(self, as_of: date) -> date:
        """The date the facts are counted up to: `as_of`, but not past the window's end."""
        return min(as_of, self.end) if self.end else as_of


@dataclass(slots=True)
class Reading:
    metric: Metric
    as_of: date
    value: float
    details: dict[str, Any] = field(default_factory=dict)
    breakdowns: dict[str, list[Row]] = field(default_factory=dict)


async def read(
    connection: AsyncConnection, metric: Metric, scope: Scope, as_of: date, *, breakdowns: bool = True
) -> Reading:
    reader = READERS[metric]
    return await reader(connection, scope, as_of, breakdowns)


async def read_rolled_up(
    connection: AsyncConnection, metric: Metric, scopes: list[Scope], as_of: date, *, breakdowns: bool = True
) -> Reading:
    """The metric over several tenants (the former provinces of a merged one): counts added, a share computed
    again from the parts' met and demand; each part's value under the `province` breakdown (by tenant)."""
    parts = [await read(connection, metric, scope, as_of, breakdowns=False) for scope in scopes]
    reading = combine(metric, parts)
    reading.details["tenants"] = [scope.tenant for scope in scopes]
    if breakdowns:
        reading.breakdowns["province"] = [
            {"key": scope.tenant, "value": part.value} for scope, part in zip(scopes, parts, strict=True)
        ]
    return reading


def combine(metric: Metric, parts: list[Reading]) -> Reading:
    """Readings of disjoint parts (tenants) as one: counts added, a share computed again from met and demand."""
    reading = Reading(metric, max(p.as_of for p in parts), 0.0)
    if metric.is_share:
        demand, met = (sum(int(p.details.get(k, 0)) for p in parts) for k in ("demand", "met"))
        reading.value = met / demand if demand else 0.0
        reading.details = {"demand": demand, "met": met}
    else:
        reading.value = sum(p.value for p in parts)
    return reading


async def series_rolled_up(
    connection: AsyncConnection, metric: Metric, scopes: list[Scope], days: list[date]
) -> list[float]:
    """`series_values` over several tenants, added up as `read_rolled_up` does."""
    if metric is Metric.DEMAND_COVERAGE:
        counts = [await _coverage_counts_on(connection, scope, days) for scope in scopes]
        totals = [(sum(c[k][0] for c in counts), sum(c[k][1] for c in counts)) for k in range(len(days))]
        return [met / demand if demand else 0.0 for demand, met in totals]
    parts = [await series_values(connection, metric, scope, days) for scope in scopes]
    return [sum(values) for values in zip(*parts, strict=True)] if parts else [0.0 for _ in days]


# T3 ---------------------------------------------------------------------------------------------------------


async def person_times_trained(connection: AsyncConnection, scope: Scope, as_of: date, breakdowns: bool) -> Reading:
    """Distinct (person, course) passed completions dated within the window, on or before D; breakdowns by course
    and by the course's field of training.

    Without breakdowns the completions are summed from the per-day counts the projection keeps (`rm.training_days`).
    With them they are counted per course (from the per-course, per-day counts, `rm.course_days`; as known on a
    time, from the completions recorded by then) in one statement that answers the per-course counts as
    one JSON object (thousands of courses at a million events: one value to decode, not a row each) and the sums
    per field of training; the people are summed from the first completions per day (`rm.first_days`)."""
    day = scope.day(as_of)
    people = await _people_trained(connection, scope, day)
    if not breakdowns:
        rows, n, where = _completions_each_day(scope)
        total_in_window = sa.select(sa.func.coalesce(sa.func.sum(n), 0)).where(*where)
        total = (await connection.execute(total_in_window.where(*_completed_in_window(rows, scope, day)))).scalar_one()
        return Reading(Metric.PERSON_TIMES_TRAINED, day, float(total), {"unique_people": people})
    rows, n, where = _completions_per_day(scope)
    where = [*where, *_completed_in_window(rows, scope, day)]
    per_course = (
        sa.select(rows.c.course_id, sa.func.sum(n).label("n"))
        .where(*where)
        .group_by(rows.c.course_id)
        .cte("per_course")
    )
    k = scope.facts(rm.courses)
    text = sa.String()
    courses = sa.select(
        sa.cast(sa.null(), text).label("field"),
        sa.literal(0).label("n"),
        sa.select(_json_object_of(connection, per_course.c.course_id, per_course.c.n)).scalar_subquery().label("json"),
    )
    of_course = sa.and_(k.c.tenant == scope.tenant, k.c.course_id == per_course.c.course_id)
    fields = (
        sa.select(sa.cast(k.c.field, text), sa.func.sum(per_course.c.n), sa.cast(sa.null(), text))
        .select_from(per_course.outerjoin(k, of_course))
        .group_by(k.c.field)
    )
    answered = (await connection.execute(sa.union_all(courses, fields))).all()
    per_course_counts = {key: int(value) for key, value in orjson.loads(answered[0].json or "{}").items()}
    reading = Reading(
        Metric.PERSON_TIMES_TRAINED, day, float(sum(per_course_counts.values())), {"unique_people": people}
    )
    reading.breakdowns["course"] = _summed_by_key(per_course_counts.items())
    reading.breakdowns["field"] = _summed_by_key((row.field, int(row.n)) for row in answered[1:])
    return reading


def _json_object_of(connection: AsyncConnection, key: Any, value: Any) -> Any:
    """The aggregate that answers {key: value, ...} over the rows as one JSON text (PostgreSQL or SQLite)."""
    if connection.dialect.name == "postgresql":
        return sa.cast(sa.func.json_object_agg(key, value), sa.Text())
    return sa.func.json_group_object(key, value)


def _summed_by_key(pairs: Iterable[tuple[str | None, int]]) -> list[Row]:
    """A breakdown from (key, count) pairs: the counts summed per key, ordered by key (no key last)."""
    sums: dict[str | None, int] = {}
    for key, count in pairs:
        sums[key] = sums.get(key, 0) + count
    keys: list[str | None] = [*sorted(key for key in sums if key is not None)]
    if None in sums:
        keys.append(None)
    return [{"key": key, "value": sums[key]} for key in keys]


def _completed_in_window(rows: Any, scope: Scope, day: date) -> list[Any]:
    on = rows.c.completed_on
    return [on <= day, on >= scope.start] if scope.start else [on <= day]


def _completions_each_day(scope: Scope) -> tuple[Any, Any, list[Any]]:
    """As `_completions_per_day`, without the course: the kept completions per day, every course summed (a row a
    day), or as known on a time the completions recorded by then."""
    if scope.known_at is None:
        kept = rm.training_days
        return kept, kept.c.completions, [kept.c.tenant == scope.tenant]
    return _completions_per_day(scope)


def _completions_per_day(scope: Scope) -> tuple[Any, Any, list[Any]]:
    """(the rows, with `course_id` and `completed_on`; the completions each row stands for; the conditions) of the
    scope's tenant's passed completions: the kept per-course, per-day counts, or as known on a time the
    completions recorded by then."""
    if scope.known_at is None:
        kept = rm.course_days
        return kept, kept.c.completions, [kept.c.tenant == scope.tenant]
    c = scope.facts(rm.completions)
    return c, sa.literal(1), [c.c.tenant == scope.tenant, c.c.passed.is_(True)]


async def _people_trained(connection: AsyncConnection, scope: Scope, day: date) -> int:
    """Distinct trainees with a passed completion in the window, on or before `day`: those whose first completion
    falls in it, plus (when the window has a start) those who completed before it and again within it. As known
    on a time, from the completions recorded by then."""
    c = scope.facts(rm.completions)
    passed = [c.c.tenant == scope.tenant, c.c.passed.is_(True), c.c.completed_on <= day]
    if scope.known_at is not None:
        if scope.start:
            passed.append(c.c.completed_on >= scope.start)
        query = sa.select(sa.func.count(sa.distinct(c.c.trainee_id))).where(*passed)
        return int((await connection.execute(query)).scalar_one())
    t, f = rm.trainees, rm.first_days
    first = [f.c.tenant == scope.tenant, f.c.first_completed_on <= day]
    if scope.start:
        first.append(f.c.first_completed_on >= scope.start)
    in_window = sa.select(sa.func.coalesce(sa.func.sum(f.c.trainees), 0)).where(*first)
    if not scope.start:
        return int((await connection.execute(in_window)).scalar_one())
    again = (
        sa.select(sa.func.count())
        .where(t.c.tenant == scope.tenant, t.c.first_completed_on < scope.start)
        .where(sa.exists().where(*passed, c.c.trainee_id == t.c.trainee_id, c.c.completed_on >= scope.start))
    )
    query = sa.select(in_window.scalar_subquery() + again.scalar_subquery())
    return int((await connection.execute(query)).scalar_one())


# T4 ---------------------------------------------------------------------------------------------------------


def _enrolled_on_job_date(scope: Scope, j: Any) -> sa.Exists:
    """An enrolment of the job's enterprise on or before the job's date, not withdrawn on or before it (as known on
    the scope's time: the kept counts answer the rest).

    A participation is withdrawn at most once (the withdrawal is keyed by it), so each enrolment is a span
    [enrolled_on, withdrawn_on) and the test is one semi-join against the (small) set of spans.
    """
    e, w = scope.facts(rm.enrolments), scope.facts(rm.withdrawals)
    spans = e.outerjoin(w, sa.and_(w.c.tenant == e.c.tenant, w.c.participation_id == e.c.participation_id))
    return (
        sa.select(e.c.participation_id)
        .select_from(spans)
        .where(e.c.tenant == j.c.tenant, e.c.enterprise_id == j.c.enterprise_id, e.c.enrolled_on <= j.c.occurred_on)
        .where(sa.or_(w.c.withdrawn_on.is_(None), w.c.withdrawn_on > j.c.occurred_on))
        .correlate(j)
        .exists()
    )


async def enterprise_times(connection: AsyncConnection, scope: Scope, as_of: date, breakdowns: bool) -> Reading:
    """Distinct jobs for enterprises enrolled in the programme on the job's date; unique enterprises beside.

    The kept counts per day (`rm.enterprise_days`) and first jobs (`rm.enterprise_firsts`) answer it; as known on
    a time, the jobs are counted per (enterprise, channel) first, and the totals and breakdowns summed from those
    rows (a few per enterprise) joined with the enterprises."""
    day = scope.day(as_of)
    if scope.known_at is None:
        return await _enterprise_times_kept(connection, scope, day, breakdowns)
    j, e = scope.facts(rm.enterprise_jobs), scope.facts(rm.enterprises)
    where: list[Any] = [j.c.tenant == scope.tenant, j.c.occurred_on <= day, _enrolled_on_job_date(scope, j)]
    if scope.start:
        where.append(j.c.occurred_on >= scope.start)
    per = (
        sa.select(j.c.enterprise_id, j.c.channel, sa.func.count().label("n"))
        .where(*where)
        .group_by(j.c.enterprise_id, j.c.channel)
        .subquery("per_enterprise")
    )
    counted = (
        sa.select(per.c.enterprise_id, per.c.channel, per.c.n, e.c.sector, e.c.commune_code)
        .select_from(per.outerjoin(e, sa.and_(e.c.tenant == scope.tenant, e.c.enterprise_id == per.c.enterprise_id)))
        .cte("counted")
    )
    groups = {"channel": counted.c.channel}  # the details give the channels, with or without breakdowns
    if breakdowns:
        groups |= {"sector": counted.c.sector, "commune": counted.c.commune_code}
    unique = sa.func.count(sa.distinct(counted.c.enterprise_id))
    rows = await _sums_and_groups(connection, counted, counted.c.n, unique, groups)
    total = rows["0total"][0]
    reading = Reading(Metric.ENTERPRISE_TIMES, day, float(total.value), {"unique_enterprises": int(total.other)})
    per_group = {name: [{"key": r.key, "value": int(r.value)} for r in rows.get(name, [])] for name in groups}
    reading.details["channels"] = {row["key"]: row["value"] for row in per_group["channel"]}
    if breakdowns:
        reading.breakdowns = per_group
    return reading


async def _enterprise_times_kept(connection: AsyncConnection, scope: Scope, day: date, breakdowns: bool) -> Reading:
    """`enterprise_times` from the kept counts: the jobs per channel (and per sector and commune) summed over the
    window's days, in one statement with the unique enterprises."""
    k = rm.enterprise_days
    where = [k.c.tenant == scope.tenant, k.c.occurred_on <= day]
    if scope.start:
        where.append(k.c.occurred_on >= scope.start)
    dimensions = rm.ENTERPRISE_DIMENSIONS if breakdowns else ("channel",)
    text = sa.String()
    sums = (
        sa.select(k.c.dimension, sa.cast(k.c.key, text).label("key"), sa.func.sum(k.c.jobs).label("value"))
        .where(*where, k.c.dimension.in_(dimensions))
        .group_by(k.c.dimension, k.c.key)
    )
    unique = sa.select(
        sa.literal("0unique", text).label("dimension"),
        sa.cast(sa.null(), text).label("key"),
        _unique_enterprises(scope, day).label("value"),
    )
    query = sa.union_all(unique, sums).order_by(sa.text("dimension"), sa.text("key"))
    per_group: dict[str, list[Row]] = {name: [] for name in dimensions}
    unique_enterprises = 0
    for row in await connection.execute(query):
        if row.dimension == "0unique":
            unique_enterprises = int(row.value)
        else:
            per_group[row.dimension].append({"key": row.key, "value": int(row.value)})
    total = sum(row["value"] for row in per_group["channel"])
    reading = Reading(Metric.ENTERPRISE_TIMES, day, float(total), {"unique_enterprises": unique_enterprises})
    reading.details["channels"] = {row["key"]: row["value"] for row in per_group["channel"]}
    if breakdowns:
        reading.breakdowns = {
            "channel": per_group["channel"],
            "sector": per_group["sector"],
            "commune": per_group["commune"],
        }
    return reading


def _unique_enterprises(scope: Scope, day: date) -> Any:
    """The enterprises with an enrolled job in the window up to `day`: those whose first falls in it, and (when the
    window has a start) those whose first came before it with a job in it again."""
    f, j = rm.enterprise_firsts, rm.enterprise_jobs
    first = [f.c.tenant == scope.tenant, f.c.first_on <= day]
    if scope.start:
        first.append(f.c.first_on >= scope.start)
    in_window = sa.select(sa.func.count()).where(*first).scalar_subquery()
    if not scope.start:
        return in_window
    again = (
        sa.select(sa.func.count())
        .where(f.c.tenant == scope.tenant, f.c.first_on < scope.start)
        .where(
            sa.exists().where(
                j.c.tenant == f.c.tenant,
                j.c.enterprise_id == f.c.enterprise_id,
                j.c.occurred_on >= scope.start,
                j.c.occurred_on <= day,
                j.c.enrolled.is_(True),
            )
        )
        .scalar_subquery()
    )
    return in_window + again


async def _sums_and_groups(
    connection: AsyncConnection, counted: Any, weight: Any, other: Any, groups: dict[str, Any]
) -> dict[str, list[Any]]:
    """One statement over pre-counted rows (a CTE, computed once): the sum of `weight` and `other` as kind
    "0total", and the sum of `weight` per key of each group (ordered by key), as rows (kind, key, value, other)."""
    text = sa.String()
    parts = [
        sa.select(
            sa.literal("0total", text).label("kind"),
            sa.cast(sa.null(), text).label("key"),
            sa.func.coalesce(sa.func.sum(weight), 0).label("value"),
            other.label("other"),
        )
    ]
    for name, column in groups.items():
        parts.append(
            sa.select(sa.literal(name, text), sa.cast(column, text), sa.func.sum(weight), sa.literal(0)).group_by(
                column
            )
        )
    query = sa.union_all(*parts).order_by(sa.text("kind"), sa.text("key"))
    rows: dict[str, list[Any]] = {}
    for row in await connection.execute(query):
        rows.setdefault(row.kind, []).append(row)
    return rows


# T2 ---------------------------------------------------------------------------------------------------------


async def load_providers(connection: AsyncConnection, scope: Scope) -> list[folds.Provider]:
    p = scope.facts(rm.providers)
    rows = await connection.execute(sa.select(p).where(p.c.tenant == scope.tenant))
    return [folds.Provider(r.provider_id, r.name, r.ownership, r.province_code) for r in rows]


async def load_designations(connection: AsyncConnection, scope: Scope) -> list[folds.Designation]:
    tenant = scope.tenant
    d, n, v = scope.facts(rm.designations), scope.facts(rm.renewals), scope.facts(rm.revocations)
    renewed: dict[str, list[tuple[date, date]]] = {}
    for r in await connection.execute(sa.select(n).where(n.c.tenant == tenant)):
        renewed.setdefault(r.designation_id, []).append((r.renewed_on, r.valid_until))
    revoked = {
        r.designation_id: r.revoked_on for r in await connection.execute(sa.select(v).where(v.c.tenant == tenant))
    }
    rows = await connection.execute(sa.select(d).where(d.c.tenant == tenant))
    return [
        folds.Designation(
            r.designation_id,
            r.provider_id,
            tuple(r.instrument_types),
            r.valid_from,
            r.valid_until,
            tuple(renewed.get(r.designation_id, ())),
            revoked.get(r.designation_id),
        )
        for r in rows
    ]


async def socialised_providers(connection: AsyncConnection, scope: Scope, as_of: date, breakdowns: bool) -> Reading:
    """Non-state providers holding a designation valid on D, not revoked on or before D."""
    day = scope.day(as_of)
    providers = await load_providers(connection, scope)
    designations = await load_designations(connection, scope)
    counted = folds.socialised_providers(providers, designations, day, scope.provinces)
    reading = Reading(Metric.SOCIALISED_PROVIDERS, day, float(len(counted)))
    if breakdowns:
        reading.breakdowns["provider"] = [{"key": p.provider_id, "label": p.name, "value": 1} for p in counted]
    return reading


# T5 ---------------------------------------------------------------------------------------------------------


async def load_laboratories(connection: AsyncConnection, scope: Scope) -> list[folds.Laboratory]:
    tenant = scope.tenant
    a, s, lab = scope.facts(rm.accreditations), scope.facts(rm.assessments), scope.facts(rm.laboratories)
    windows: dict[str, list[tuple[date, date, date]]] = {}
    for r in await connection.execute(sa.select(a).where(a.c.tenant == tenant)):
        windows.setdefault(r.laboratory_id, []).append((r.recorded_on, r.valid_from, r.valid_until))
    assessed: dict[str, list[tuple[date, str, bool]]] = {}
    for r in await connection.execute(sa.select(s).where(s.c.tenant == tenant)):
        assessed.setdefault(r.laboratory_id, []).append((r.assessed_on, r.criteria, r.passed))
    rows = await connection.execute(sa.select(lab).where(lab.c.tenant == tenant))
    return [
        folds.Laboratory(
            r.laboratory_id,
            r.name,
            r.commune_code,
            tuple(windows.get(r.laboratory_id, ())),
            tuple(assessed.get(r.laboratory_id, ())),
        )
        for r in rows
    ]


async def accredited_labs(connection: AsyncConnection, scope: Scope, as_of: date, breakdowns: bool) -> Reading:
    """Laboratories in the region's communes with a passed assessment inside an accreditation window."""
    day = scope.day(as_of)
    labs = await load_laboratories(connection, scope)
    counted = folds.accredited_labs(labs, day, scope.communes, scope.criteria)
    reading = Reading(Metric.ACCREDITED_LABS, day, float(len(counted)))
    if breakdowns:
        reading.breakdowns["laboratory"] = [
            {"key": lab.laboratory_id, "label": lab.name, "commune": lab.commune_code, "value": 1} for lab in counted
        ]
    return reading


# T1 ---------------------------------------------------------------------------------------------------------


def coverage_period(scope: Scope, as_of: date) -> tuple[date, date]:
    """The twelve months ending on D (not before the window starts, not after it ends)."""
    end = scope.day(as_of)
    start = rolling_year_start(end)
    return (max(start, scope.start) if scope.start else start), end


def _due_in(scope: Scope, start: date, end: date) -> sa.Select[Any]:
    """(instrument, type, commune, due date) of each due date in the period, not retired before it: a range of
    the demand dates the projection keeps, or as known on a time, from the facts recorded by then."""
    if scope.known_at is None:
        m = rm.demand_dates
        return sa.select(m.c.instrument_id, m.c.type_code, m.c.commune_code, m.c.due_on).where(
            m.c.tenant == scope.tenant, m.c.due_on >= start, m.c.due_on <= end
        )
    d, i, r = scope.facts(rm.due_dates), scope.facts(rm.instruments), scope.facts(rm.retirements)
    return (
        sa.select(d.c.instrument_id, i.c.type_code, i.c.commune_code, d.c.due_on)
        .join(i, sa.and_(i.c.tenant == d.c.tenant, i.c.instrument_id == d.c.instrument_id))
        .outerjoin(r, sa.and_(r.c.tenant == d.c.tenant, r.c.instrument_id == d.c.instrument_id))
        .where(d.c.tenant == scope.tenant, d.c.due_on >= start, d.c.due_on <= end)
        .where(sa.or_(r.c.retired_on.is_(None), r.c.retired_on >= d.c.due_on))
    )


async def _room_to_hash(connection: AsyncConnection) -> None:
    """Coverage hashes a year's due instruments and verifications (tens of thousands of ids each): PostgreSQL's
    default 4 MB of work_mem spilled those hashes to disk in batches. More for this transaction only."""
    if connection.dialect.name == "postgresql":  # ends with the transaction (a warning alone in autocommit)
        await connection.execute(sa.text("SET LOCAL work_mem = '32MB'"))


def _verified_locally(scope: Scope, start: date, end: date) -> sa.Select[Any]:
    """(instrument, job, provider) of each verification in the period by a provider located in the region."""
    v = scope.facts(rm.verifications)
    query = sa.select(v.c.instrument_id, v.c.job_id, v.c.provider_id, v.c.verified_on).where(
        v.c.tenant == scope.tenant, v.c.verified_on >= start, v.c.verified_on <= end
    )
    if scope.provinces:
        query = query.where(v.c.provider_province_code.in_(scope.provinces))
    return query


async def demand_coverage(connection: AsyncConnection, scope: Scope, as_of: date, breakdowns: bool) -> Reading:
    """Met / demand: instruments due in the period that a provider located in the province verified in it.

    One statement: the period's due set and the local verifications are computed once (as CTEs) and joined as
    sets; the total, the designated count and the breakdowns come back as rows of one UNION ALL.
    """
    start, end = coverage_period(scope, as_of)
    if scope.start and end < scope.start:
        return Reading(Metric.DEMAND_COVERAGE, end, 0.0, {"demand": 0, "met": 0, "period": [None, None]})
    if scope.known_at is None:
        return await _demand_coverage_kept(connection, scope, start, end, breakdowns)
    designated_on_due_date = await _designated_on_due_date(connection, scope, start, end)
    await _room_to_hash(connection)
    due = _due_in(scope, start, end).cte("due")
    demand = sa.select(due.c.instrument_id, due.c.type_code, due.c.commune_code).distinct().cte("demand")
    local = _verified_locally(scope, start, end).cte("local")
    # a join, not `IN (subquery)` in the select list: PostgreSQL runs that as a subplan per due instrument
    # (a scan of the verifications each) once the verifications no longer fit in work_mem as a hash
    verified = sa.select(local.c.instrument_id).distinct().subquery("verified")
    met_flag = sa.case((verified.c.instrument_id.is_not(None), 1), else_=0)
    flagged = (
        sa.select(demand.c.type_code, demand.c.commune_code, met_flag.label("met"))
        .select_from(demand.outerjoin(verified, verified.c.instrument_id == demand.c.instrument_id))
        .cte("flagged")
    )
    text, none = sa.String(), sa.null()
    parts = [
        sa.select(
            sa.literal("0total", text).label("kind"),
            sa.cast(none, text).label("key"),
            sa.cast(none, text).label("label"),
            sa.func.count().label("demand"),
            sa.func.coalesce(sa.func.sum(flagged.c.met), 0).label("met"),
        ),
        sa.select(
            sa.literal("1designated", text),
            sa.cast(none, text),
            sa.cast(none, text),
            sa.func.count(sa.distinct(due.c.instrument_id)),
            sa.literal(0),
        ).where(designated_on_due_date(due)),
    ]
    if breakdowns:
        for kind, column in (("commune", flagged.c.commune_code), ("instrument_type", flagged.c.type_code)):
            parts.append(
                sa.select(
                    sa.literal(kind, text), column, sa.cast(none, text), sa.func.count(), sa.func.sum(flagged.c.met)
                ).group_by(column)
            )
        p = scope.facts(rm.providers)
        parts.append(
            sa.select(sa.literal("provider", text), local.c.provider_id, p.c.name, sa.func.count(), sa.literal(0))
            .select_from(
                local.outerjoin(p, sa.and_(p.c.tenant == scope.tenant, p.c.provider_id == local.c.provider_id))
            )
            .where(local.c.instrument_id.in_(sa.select(demand.c.instrument_id)))
            .group_by(local.c.provider_id, p.c.name)
        )
    query = sa.union_all(*parts).order_by(sa.text("kind"), sa.text("key"))
    rows: dict[str, list[Any]] = {}
    for row in await connection.execute(query):
        rows.setdefault(row.kind, []).append(row)
    total, met = int(rows["0total"][0].demand), int(rows["0total"][0].met)
    designated = int(rows["1designated"][0].demand)
    value = met / total if total else 0.0
    details: dict[str, Any] = {
        "demand": total,
        "met": met,
        "period": [start.isoformat(), end.isoformat()],
        "designated_share": designated / total if total else 0.0,
    }
    reading = Reading(Metric.DEMAND_COVERAGE, end, value, details)
    if breakdowns:
        for name in ("commune", "instrument_type"):
            reading.breakdowns[name] = [
                {"key": r.key, "demand": int(r.demand), "met": int(r.met), "value": r.met / r.demand}
                for r in rows.get(name, [])
            ]
        reading.breakdowns["provider"] = [
            {"key": r.key, "label": r.label, "value": int(r.demand)} for r in rows.get("provider", [])
        ]
        reading.breakdowns["inspection"] = await _found_overdue_at_inspection(connection, scope, start, end)
    return reading


def _first_due(start: date) -> sa.ColumnElement[bool]:
    """A demand-date row that is its instrument's first in a period starting on `start` (the row is in it)."""
    m = rm.demand_dates
    return sa.or_(m.c.prev_due_on.is_(None), m.c.prev_due_on < start)


def _verified_when_due(scope: Scope, start: date, end: date) -> list[Any]:
    """Kept verification rows in [start, end] by a provider located in the region, of an instrument with a demand
    date in [start, end] (its latest on or before the verification, or its earliest on or after it)."""
    w = rm.verification_dates
    where = [
        w.c.tenant == scope.tenant,
        w.c.verified_on >= start,
        w.c.verified_on <= end,
        sa.or_(w.c.due_before_on >= start, w.c.due_after_on <= end),
    ]
    if scope.provinces:
        where.append(w.c.provider_province_code.in_(scope.provinces))
    return where


def _first_verified(scope: Scope, start: date) -> sa.ColumnElement[bool]:
    """A kept verification row that is its instrument's first in a period starting on `start` among the
    provider's province (when the region names provinces) or among all (when it does not)."""
    w = rm.verification_dates
    previous = w.c.prev_same_province_on if scope.provinces else w.c.prev_verified_on
    return sa.or_(previous.is_(None), previous < start)


async def _several_provinces_verify(connection: AsyncConnection, scope: Scope, start: date, end: date) -> bool:
    """Whether providers of more than one of the region's provinces verified in [start, end]: then an instrument
    may have a first verification in each, and the met instruments are counted distinct."""
    if len(scope.provinces) < 2:
        return False
    w = rm.verification_dates
    present = [
        sa.exists()
        .where(w.c.tenant == scope.tenant, w.c.provider_province_code == code)
        .where(w.c.verified_on >= start, w.c.verified_on <= end)
        for code in sorted(set(scope.provinces))
    ]
    flags = (await connection.execute(sa.select(*(sa.case((p, 1), else_=0) for p in present)))).one()
    return sum(flags) > 1


async def _demand_coverage_kept(
    connection: AsyncConnection, scope: Scope, start: date, end: date, breakdowns: bool
) -> Reading:
    """`demand_coverage` from the demand and verification dates the projection keeps: demand is a count of the
    rows in the period that are their instrument's first there, met a count of the local verification rows in it
    that are their instrument's first there and have a demand date in it (see `rm.verification_dates`).

    Each table's range is scanned once, straight into counts per (commune, type) (and provider): a few hundred
    rows, which the totals and breakdowns sum. An instrument has exactly one first row in the period, so the demand
    of a type is also its number of due instruments: the designated count reads rows only for the types a
    designation covers on part of the period."""
    ranges = await _designated_ranges(connection, scope, start, end)
    distinct = await _several_provinces_verify(connection, scope, start, end)
    m, w = rm.demand_dates, rm.verification_dates
    due_groups = (
        sa.select(m.c.commune_code, m.c.type_code, sa.func.count().label("n"))
        .where(m.c.tenant == scope.tenant, m.c.due_on >= start, m.c.due_on <= end, _first_due(start))
        .group_by(m.c.commune_code, m.c.type_code)
        .cte("due_groups")
    )
    first = _first_verified(scope, start)
    if distinct:  # an instrument may have a first verification in each province: counted once per group
        met_groups = (
            sa.select(
                w.c.commune_code, w.c.type_code, sa.func.count(sa.distinct(w.c.instrument_id)).filter(first).label("n")
            )
            .where(*_verified_when_due(scope, start, end))
            .group_by(w.c.commune_code, w.c.type_code)
            .cte("met_groups")
        )
        by_provider = (
            sa.select(w.c.provider_id, sa.func.count().label("n"))
            .where(*_verified_when_due(scope, start, end))
            .group_by(w.c.provider_id)
            .cte("by_provider")
        )
    else:  # per (commune, type, provider): met and every local verification (the provider breakdown) at once
        met_groups = (
            sa.select(
                w.c.commune_code,
                w.c.type_code,
                w.c.provider_id,
                sa.func.count().filter(first).label("n"),
                sa.func.count().label("verifications"),
            )
            .where(*_verified_when_due(scope, start, end))
            .group_by(w.c.commune_code, w.c.type_code, w.c.provider_id)
            .cte("met_groups")
        )
        by_provider = (
            sa.select(met_groups.c.provider_id, sa.func.sum(met_groups.c.verifications).label("n"))
            .group_by(met_groups.c.provider_id)
            .cte("by_provider")
        )
    whole, partial = _designated_types(ranges, start, end)
    text, none = sa.String(), sa.null()
    parts = [
        sa.select(
            sa.literal("0demand", text).label("kind"),
            sa.cast(none, text).label("key"),
            sa.cast(none, text).label("label"),
            sa.func.sum(due_groups.c.n),
        ),
        sa.select(sa.literal("0met", text), sa.cast(none, text), sa.cast(none, text), sa.func.sum(met_groups.c.n)),
        sa.select(
            sa.literal("1designated", text), sa.cast(none, text), sa.cast(none, text), sa.func.sum(due_groups.c.n)
        ).where(due_groups.c.type_code.in_(whole)),
    ]
    if partial:
        parts.append(
            sa.select(
                sa.literal("1designated", text),
                sa.cast(none, text),
                sa.cast(none, text),
                sa.func.count(sa.distinct(m.c.instrument_id)),
            ).where(m.c.tenant == scope.tenant, _due_in_ranges(m, partial))
        )
    if breakdowns:
        for kind, name in (("commune", "commune_code"), ("instrument_type", "type_code")):
            parts.append(
                sa.select(
                    sa.literal(kind, text), due_groups.c[name], sa.cast(none, text), sa.func.sum(due_groups.c.n)
                ).group_by(due_groups.c[name])
            )
            parts.append(
                sa.select(
                    sa.literal(f"{kind}:met", text),
                    met_groups.c[name],
                    sa.cast(none, text),
                    sa.func.sum(met_groups.c.n),
                ).group_by(met_groups.c[name])
            )
        p = rm.providers
        parts.append(
            sa.select(sa.literal("provider", text), by_provider.c.provider_id, p.c.name, by_provider.c.n).select_from(
                by_provider.outerjoin(
                    p, sa.and_(p.c.tenant == scope.tenant, p.c.provider_id == by_provider.c.provider_id)
                )
            )
        )
    query = sa.union_all(*parts).order_by(sa.text("kind"), sa.text("key"))
    rows: dict[str, list[Any]] = {}
    for row in await connection.execute(query):
        rows.setdefault(row[0], []).append(row)
    total, met_count = int(rows["0demand"][0][3] or 0), int(rows["0met"][0][3] or 0)
    designated = sum(int(row[3] or 0) for row in rows["1designated"])
    details: dict[str, Any] = {
        "demand": total,
        "met": met_count,
        "period": [start.isoformat(), end.isoformat()],
        "designated_share": designated / total if total else 0.0,
    }
    reading = Reading(Metric.DEMAND_COVERAGE, end, met_count / total if total else 0.0, details)
    if breakdowns:
        for name in ("commune", "instrument_type"):
            met_of = {r[1]: int(r[3]) for r in rows.get(f"{name}:met", [])}
            demand_of = [(r[1], int(r[3])) for r in rows.get(name, [])]
            reading.breakdowns[name] = [
                {"key": key, "demand": n, "met": met_of.get(key, 0), "value": met_of.get(key, 0) / n}
                for key, n in demand_of
            ]
        reading.breakdowns["provider"] = [
            {"key": r[1], "label": r[2], "value": int(r[3])} for r in rows.get("provider", [])
        ]
        reading.breakdowns["inspection"] = await _found_overdue_at_inspection(connection, scope, start, end)
    return reading


def _designated_types(
    ranges: list[tuple[str, date, date]], start: date, end: date
) -> tuple[list[str], list[tuple[str, date, date]]]:
    """The types a designation covers on every day of [start, end], and the ranges of those it covers on part."""
    whole = [code for code, first, last in ranges if (first, last) == (start, end)]
    return whole, [(code, first, last) for code, first, last in ranges if code not in whole]


async def _found_overdue_at_inspection(
    connection: AsyncConnection, scope: Scope, start: date, end: date
) -> list[dict[str, Any]]:
    """Instruments found in use without a valid verification at state inspections in the period (each once), and
    how many of them are in the period's demand and not met: a breakdown line beside T1, not part of it."""
    f = scope.facts(rm.found_overdue)
    found = (
        sa.select(f.c.instrument_id)
        .where(f.c.tenant == scope.tenant, f.c.found_on >= start, f.c.found_on <= end)
        .distinct()
        .subquery("found")
    )
    due = _due_in(scope, start, end).subquery("due")
    verified = _verified_locally(scope, start, end).subquery("verified")
    unmet = (
        sa.select(found.c.instrument_id)
        .where(found.c.instrument_id.in_(sa.select(due.c.instrument_id)))
        .where(found.c.instrument_id.not_in(sa.select(verified.c.instrument_id)))
        .subquery("unmet")
    )
    counts = sa.select(
        sa.select(sa.func.count()).select_from(found).scalar_subquery(),
        sa.select(sa.func.count()).select_from(unmet).scalar_subquery(),
    )
    total, not_met = (await connection.execute(counts)).one()
    return [
        {"key": "found-overdue", "label": "found overdue at inspection", "value": int(total)},
        {"key": "found-overdue-not-met", "label": "of which due in the period and not verified", "value": int(not_met)},
    ]


async def _designated_ranges(
    connection: AsyncConnection, scope: Scope, start: date, end: date
) -> list[tuple[str, date, date]]:
    """(type, first day, last day): the runs of days in [start, end] on which a designation of a local provider
    covers the type.

    Designations are few, so the days of the period on which each type is covered are worked out here (by the
    same rule as folds.type_designated_on) and handed to SQL as date ranges per type.
    """
    by_type = folds.designated_types(
        await load_designations(connection, scope),
        await load_providers(connection, scope),
        scope.provinces,
    )
    return [
        (code, first, last) for code in sorted(by_type) for first, last in _covered_ranges(by_type, code, start, end)
    ]


async def _designated_on_due_date(
    connection: AsyncConnection, scope: Scope, start: date, end: date
) -> Callable[[Any], sa.ColumnElement[bool]]:
    """A condition on due rows: the type was in a designation of a local provider valid on the due date."""
    ranges = await _designated_ranges(connection, scope, start, end)

    return lambda due: _due_in_ranges(due, ranges)


def _due_in_ranges(due: Any, ranges: list[tuple[str, date, date]]) -> sa.ColumnElement[bool]:
    """A due row whose type is one of `ranges`' and whose date is in that type's (type, first, last) range."""
    if not ranges:
        return sa.false()
    return sa.or_(
        *(sa.and_(due.c.type_code == code, due.c.due_on.between(first, last)) for code, first, last in ranges)
    )


def _covered_ranges(
    by_type: dict[str, list[folds.Designation]], code: str, start: date, end: date
) -> list[tuple[date, date]]:
    """The runs of days in [start, end] on which `code` is designated; validity only changes on the dates below."""
    changes = {start}
    for d in by_type.get(code, ()):
        candidates = [d.valid_from, d.valid_until + ONE_DAY, d.revoked_on]
        for renewed_on, until in d.renewals:
            candidates += [renewed_on, until + ONE_DAY]
        changes.update(c for c in candidates if c is not None and start < c <= end)
    points = sorted(changes)
    ranges: list[tuple[date, date]] = []
    for i, first in enumerate(points):
        last = points[i + 1] - ONE_DAY if i + 1 < len(points) else end
        if folds.type_designated_on(by_type, code, first):
            if ranges and ranges[-1][1] + ONE_DAY == first:
                ranges[-1] = (ranges[-1][0], last)
            else:
                ranges.append((first, last))
    return ranges


ONE_DAY = timedelta(days=1)


# series -----------------------------------------------------------------------------------------------------


async def series_values(connection: AsyncConnection, metric: Metric, scope: Scope, days: list[date]) -> list[float]:
    """The metric's value on each of `days` (what `read` gives for each day), in as few statements as it can:
    counts as one scan with a column per day, the folds over facts loaded once, demand coverage per day."""
    if not days:
        return []
    if metric is Metric.PERSON_TIMES_TRAINED:
        rows, n, where = _completions_each_day(scope)
        return await _counts_on(connection, rows.c.completed_on, where, scope, days, sa.func.sum(n))
    if metric is Metric.ENTERPRISE_TIMES and scope.known_at is None:
        k = rm.enterprise_days
        where = [k.c.tenant == scope.tenant, k.c.dimension == "channel"]
        return await _counts_on(connection, k.c.occurred_on, where, scope, days, sa.func.sum(k.c.jobs))
    if metric is Metric.ENTERPRISE_TIMES:
        j = scope.facts(rm.enterprise_jobs)
        where = [j.c.tenant == scope.tenant, _enrolled_on_job_date(scope, j)]
        return await _counts_on(connection, j.c.occurred_on, where, scope, days, sa.func.count())
    if metric is Metric.SOCIALISED_PROVIDERS:
        providers = await load_providers(connection, scope)
        designations = await load_designations(connection, scope)
        return [
            float(len(folds.socialised_providers(providers, designations, scope.day(d), scope.provinces))) for d in days
        ]
    if metric is Metric.ACCREDITED_LABS:
        labs = await load_laboratories(connection, scope)
        return [float(len(folds.accredited_labs(labs, scope.day(d), scope.communes, scope.criteria))) for d in days]
    if metric is Metric.DEMAND_COVERAGE:
        return await _coverage_on(connection, scope, days)
    return [(await read(connection, metric, scope, d, breakdowns=False)).value for d in days]


async def _coverage_on(connection: AsyncConnection, scope: Scope, days: list[date]) -> list[float]:
    return [met / demand if demand else 0.0 for demand, met in await _coverage_counts_on(connection, scope, days)]


async def _coverage_counts_on(connection: AsyncConnection, scope: Scope, days: list[date]) -> list[tuple[int, int]]:
    """(demand, met) on each day in one statement: each instrument's due dates and local verifications are
    flagged per period (a column per day) over the union of the periods, then summed."""
    periods = [coverage_period(scope, d) for d in days]
    wanted = [k for k, (_, end) in enumerate(periods) if not (scope.start and end < scope.start)]
    if not wanted:
        return [(0, 0) for _ in days]
    low, high = min(periods[k][0] for k in wanted), max(periods[k][1] for k in wanted)
    if scope.known_at is None:
        return await _coverage_counts_kept(connection, scope, days, periods, wanted, (low, high))
    await _room_to_hash(connection)
    due = _due_in(scope, low, high).cte("due")
    local = _verified_locally(scope, low, high).cte("local")

    def flags(source: Any, on: Any, name: str) -> Any:
        columns = [sa.func.max(sa.case((on.between(*periods[k]), 1), else_=0)).label(f"p{k}") for k in wanted]
        return sa.select(source.c.instrument_id, *columns).group_by(source.c.instrument_id).cte(name)

    due_flags, met_flags = flags(due, due.c.due_on, "due_flags"), flags(local, local.c.verified_on, "met_flags")
    sums = []
    for k in wanted:
        sums.append(sa.func.coalesce(sa.func.sum(due_flags.c[f"p{k}"]), 0))
        met = due_flags.c[f"p{k}"] * sa.func.coalesce(met_flags.c[f"p{k}"], 0)
        sums.append(sa.func.coalesce(sa.func.sum(met), 0))
    joined = due_flags.outerjoin(met_flags, met_flags.c.instrument_id == due_flags.c.instrument_id)
    row = (await connection.execute(sa.select(*sums).select_from(joined))).one()
    counts = [(0, 0) for _ in days]
    for i, k in enumerate(wanted):
        counts[k] = (int(row[2 * i]), int(row[2 * i + 1]))
    return counts


async def _coverage_counts_kept(
    connection: AsyncConnection,
    scope: Scope,
    days: list[date],
    periods: list[tuple[date, date]],
    wanted: list[int],
    bounds: tuple[date, date],
) -> list[tuple[int, int]]:
    """`_coverage_counts_on` from the kept demand and verification dates: per period, a conditional count over
    the rows of the union of the periods (one scan of each table)."""
    low, high = bounds
    m, w = rm.demand_dates, rm.verification_dates
    distinct = await _several_provinces_verify(connection, scope, low, high)
    starts = sorted({periods[k][0] for k in wanted})
    if len(starts) <= 2:  # a window start shared by the periods: counts by date and running sums
        counts = [(0, 0) for _ in days]
        for start in starts:
            ends = [(k, periods[k][1]) for k in wanted if periods[k][0] == start]
            demand_on, met_on = await _coverage_by_date(connection, scope, start, max(b for _, b in ends), distinct)
            for k, end in ends:
                counts[k] = (demand_on(end), met_on(end))
        return counts
    demand = [
        sa.func.coalesce(
            sa.func.sum(sa.case((sa.and_(m.c.due_on >= a, m.c.due_on <= b, _first_due(a)), 1), else_=0)), 0
        )
        for a, b in (periods[k] for k in wanted)
    ]
    due_query = sa.select(*demand).where(m.c.tenant == scope.tenant, m.c.due_on >= low, m.c.due_on <= high)
    met: list[Any] = []
    for a, b in (periods[k] for k in wanted):
        when = sa.and_(
            w.c.verified_on >= a,
            w.c.verified_on <= b,
            sa.or_(w.c.due_before_on >= a, w.c.due_after_on <= b),
            _first_verified(scope, a),
        )
        if distinct:
            met.append(sa.func.count(sa.distinct(sa.case((when, w.c.instrument_id), else_=None))))
        else:
            met.append(sa.func.coalesce(sa.func.sum(sa.case((when, 1), else_=0)), 0))
    where = [w.c.tenant == scope.tenant, w.c.verified_on >= low, w.c.verified_on <= high]
    if scope.provinces:
        where.append(w.c.provider_province_code.in_(scope.provinces))
    met_query = sa.select(*met).where(*where)
    due_row = (await connection.execute(due_query)).one()
    met_row = (await connection.execute(met_query)).one()
    counts = [(0, 0) for _ in days]
    for i, k in enumerate(wanted):
        counts[k] = (int(due_row[i]), int(met_row[i]))
    return counts


async def _coverage_by_date(
    connection: AsyncConnection, scope: Scope, start: date, end: date, distinct: bool
) -> tuple[Callable[[date], int], Callable[[date], int]]:
    """For periods [start, b] with b up to `end`: demand and met as functions of b. A demand row counts from its
    date; a local verification row from its date when a demand date on or before it is in the period, else from
    its instrument's next demand date (each row's first day of counting, then running sums)."""
    m, w = rm.demand_dates, rm.verification_dates
    due = (
        sa.select(m.c.due_on, sa.func.count())
        .where(m.c.tenant == scope.tenant, m.c.due_on >= start, m.c.due_on <= end, _first_due(start))
        .group_by(m.c.due_on)
    )
    counted_from = sa.case(
        (w.c.due_before_on >= start, w.c.verified_on),
        (w.c.due_after_on > w.c.verified_on, w.c.due_after_on),
        else_=w.c.verified_on,
    )
    where = [
        w.c.tenant == scope.tenant,
        w.c.verified_on >= start,
        w.c.verified_on <= end,
        sa.or_(w.c.due_before_on >= start, w.c.due_after_on.is_not(None)),
        _first_verified(scope, start),
    ]
    if scope.provinces:
        where.append(w.c.provider_province_code.in_(scope.provinces))
    if distinct:  # an instrument counts from the first day any of its rows counts
        first = (
            sa.select(w.c.instrument_id, sa.func.min(counted_from).label("day"))
            .where(*where)
            .group_by(w.c.instrument_id)
            .subquery("first")
        )
        met = sa.select(first.c.day, sa.func.count()).group_by(first.c.day)
    else:
        day = counted_from.label("day")
        met = sa.select(day, sa.func.count()).where(*where).group_by(day)
    return _running(await connection.execute(due)), _running(await connection.execute(met))


def _running(rows: Any) -> Callable[[date], int]:
    """From (date, count) rows: the count on or before a date."""
    per_date = sorted((row[0], int(row[1])) for row in rows)
    dates = [d for d, _ in per_date]
    running = list(itertools.accumulate(n for _, n in per_date))
    return lambda day: running[k - 1] if (k := bisect.bisect_right(dates, day)) else 0


async def _counts_on(
    connection: AsyncConnection, on: Any, where: list[Any], scope: Scope, days: list[date], count: Any
) -> list[float]:
    """The `count` (an aggregate) of the rows that match `where` with `on` within the window and on or before each
    day: one scan counts the rows per date (a few hundred dates a year, not a column per day evaluated on every
    row), then running sums."""
    counted = [scope.day(d) for d in days]
    where = [*where, on <= max(counted)]
    if scope.start:
        where.append(on >= scope.start)
    per_date = sorted(
        (row[0], int(row[1])) for row in await connection.execute(sa.select(on, count).where(*where).group_by(on))
    )
    dates = [d for d, _ in per_date]
    running = list(itertools.accumulate(n for _, n in per_date))
    return [float(running[k - 1]) if (k := bisect.bisect_right(dates, d)) else 0.0 for d in counted]


# shared -----------------------------------------------------------------------------------------------------


READERS = {
    Metric.DEMAND_COVERAGE: demand_coverage,
    Metric.SOCIALISED_PROVIDERS: socialised_providers,
    Metric.PERSON_TIMES_TRAINED: person_times_trained,
    Metric.ENTERPRISE_TIMES: enterprise_times,
    Metric.ACCREDITED_LABS: accredited_labs,
}
