"""The aggregates the projection keeps beside the facts (each trainee's first completion and the first completions
per day, the passed completions of each course per day and of each day, the enrolled jobs per day and each
enterprise's first, the demand dates with their instrument's type, commune and previous demand date, the
verifications with their neighbours) answer exactly what the facts answer, with and without breakdowns: whatever
order the facts arrive in, one per batch, with a fact delivered twice, with trainees and enterprises who took part
before a window and again in it, and with instruments verified in two provinces of the region, twice on one day, or
before they were registered, and with an instrument due twice on the days a designation covers part of the period."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime

import pytest
import scripted_year
import sqlalchemy as sa
from scripted_year import FakeRecord, NoDeadLetters

from metrology.eventkit.projector import ProjectorRunner
from metrology.reporting.adapters import aggregates
from metrology.reporting.adapters import readmodel as rm
from metrology.reporting.application import kpis
from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.domain.plan import Metric
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.runtime import ServiceRuntime

EVERYTHING_KNOWN = datetime(2100, 1, 1, tzinfo=UTC)  # "as known on" reads the facts, not the aggregates
DAYS = [
    date(2021, 7, 31),
    date(2021, 12, 31),
    date(2024, 12, 31),
    date(2025, 3, 31),
    date(2025, 4, 30),  # i21 verified on 04-20, due from 05-01: not yet demand
    date(2025, 6, 30),
    date(2025, 12, 31),
]


def script() -> scripted_year.Script:
    """The scripted year, plus trainees who completed before the 2021-08-01 window (t30 also within it)."""
    s = scripted_year.build()
    for trainee, course, day in (("t30", "c8", "2021-05-01"), ("t30", "c9", "2021-10-01"), ("t31", "c8", "2021-05-02")):
        s.add(
            "training", "trainee-completed", f"course-{course}", day, course_id=course, trainee_id=trainee, passed=True
        )

    # i20: due twice in 2025, verified in 83 and in 86 (twice on one day); i21 verified (failed: no due date) only
    # in 86 before it was registered, its registration folded first (the list is folded latest first); i22
    # verified in 2025 but never registered (no demand)
    def register(iid: str, day: str, type_code: str = "2.7") -> None:
        s.add(
            "registry", "instrument-registered", f"instrument-{iid}", day, instrument_id=iid, type_code=type_code,
            serial=iid, manufacturer="m", owner_enterprise_id="e6", province_code="83", commune_code="28757",
        )  # fmt: skip

    register("i20", "2025-02-01")
    # i23: of type 2.4, which d3 covers from 2025-03-01 to its revocation on 2025-09-15 only; due twice on those
    # days (on registration, and when its short certificate ends, the day it is verified again): one designated
    # instrument, not two
    register("i23", "2025-03-10", "2.4")
    for job, day, iid, province, until in (
        ("w23a", "2025-03-12", "i23", "83", "2025-06-30"),
        ("w23b", "2025-06-30", "i23", "83", None),  # on its due date
        ("w20a", "2025-03-01", "i20", "83", "2025-08-31"),
        ("w20b", "2025-09-10", "i20", "86", None),
        ("w20c", "2025-09-10", "i20", "83", None),
        ("w21a", "2025-04-20", "i21", "86", None),
        ("w22a", "2025-04-20", "i22", "83", None),
    ):
        s.add(
            "verification", "work-recorded", f"job-{job}", day, job_id=job, kind="verification", mode="periodic",
            subject="instrument", subject_id=iid, type_code="2.4" if iid == "i23" else "2.7",
            owner_enterprise_id="e6", provider_id="p9", provider_province_code=province, verifier_id="v1",
            result="fail" if job == "w21a" else "pass",
        )  # fmt: skip
        if until:
            s.add(
                "verification", "certificate-issued", f"job-{job}", day, certificate_number=f"C-{job}", job_id=job,
                subject_id=iid, valid_until=until,
            )  # fmt: skip
    register("i21", "2025-05-01")
    return s


async def fold_live(runner: ProjectorRunner) -> None:
    """One fact per batch, later facts first (retirements before registrations): the aggregates move each time."""
    for envelope in reversed(script().envelopes()):
        await runner.handle([FakeRecord(envelope.to_json())])


async def fold_as_a_replay(runner: ProjectorRunner) -> None:
    """The same facts as a rebuild replays them: batches that leave the aggregates alone, then one derivation."""
    records = [FakeRecord(envelope.to_json()) for envelope in reversed(script().envelopes())]
    runner.replaying = True
    for start in range(0, len(records), 7):
        await runner.handle(records[start : start + 7])
    await runner.finish_replay()


async def folded(database_url: str, fold: Callable[[ProjectorRunner], Awaitable[None]]) -> ServiceRuntime:
    settings = ReportingSettings(
        service_name="reporting", database_url=database_url, evaluation_date=date(2025, 12, 31)
    )
    rt = bootstrap(settings, evaluate=False)
    await rt.migrate()
    await fold(ProjectorRunner(rt.sessions, rt.subscriptions[0].projection, NoDeadLetters()))
    return rt


@pytest.fixture(params=[fold_live, fold_as_a_replay], ids=["live", "replayed"])
async def runtime(database_url: str, request: pytest.FixtureRequest) -> AsyncIterator[ServiceRuntime]:
    rt = await folded(database_url, request.param)
    yield rt
    await rt.dispose()


async def readings(runtime: ServiceRuntime, metric: Metric, scope: kpis.Scope) -> list[object]:
    async with runtime.engine.connect() as connection:
        out = []
        for day in DAYS:
            reading = await kpis.read(connection, metric, scope, day)
            value_only = await kpis.read(connection, metric, scope, day, breakdowns=False)
            out.append((reading.value, reading.details, reading.breakdowns, value_only.value, value_only.details))
        out.append(await kpis.series_values(connection, metric, scope, DAYS))
        return out


@pytest.mark.parametrize("metric", [Metric.PERSON_TIMES_TRAINED, Metric.DEMAND_COVERAGE, Metric.ENTERPRISE_TIMES])
@pytest.mark.parametrize("start", [None, date(2021, 8, 1), date(2025, 1, 1), date(2025, 6, 1)])
async def test_the_aggregates_answer_what_the_facts_answer(runtime, metric, start):
    scope = kpis.Scope(scripted_year.TENANT, start=start, provinces=("83",))
    from_facts = kpis.Scope(scripted_year.TENANT, start=start, provinces=("83",), known_at=EVERYTHING_KNOWN)

    assert await readings(runtime, metric, scope) == await readings(runtime, metric, from_facts)


@pytest.mark.parametrize("provinces", [(), ("86",), ("83", "86"), ("83", "79", "86")])
@pytest.mark.parametrize("start", [None, date(2025, 1, 1), date(2025, 4, 1)])
async def test_coverage_from_the_kept_dates_in_any_region_is_what_the_facts_give(runtime, provinces, start):
    scope = kpis.Scope(scripted_year.TENANT, start=start, provinces=provinces)
    from_facts = kpis.Scope(scripted_year.TENANT, start=start, provinces=provinces, known_at=EVERYTHING_KNOWN)
    kept = await readings(runtime, Metric.DEMAND_COVERAGE, scope)

    assert kept == await readings(runtime, Metric.DEMAND_COVERAGE, from_facts)
    assert any(value for value, *_ in kept[:-1])  # something was met: the comparison is not of zeros


async def test_each_verification_keeps_its_instrument_s_nearest_demand_dates_the_same_day_included(runtime):
    async with runtime.engine.connect() as connection:
        due = (await connection.execute(sa.select(rm.demand_dates.c.instrument_id, rm.demand_dates.c.due_on))).all()
        kept = (await connection.execute(sa.select(rm.verification_dates))).all()
    days: dict[str, list[date]] = {}
    for instrument_id, due_on in due:
        days.setdefault(instrument_id, []).append(due_on)

    assert kept
    for row in kept:
        dates = days.get(row.instrument_id, [])
        assert row.due_before_on == max((d for d in dates if d <= row.verified_on), default=None)
        assert row.due_after_on == min((d for d in dates if d >= row.verified_on), default=None)
    assert any(row.verified_on in (row.due_before_on, row.due_after_on) for row in kept)


async def test_a_trainee_who_completed_before_the_window_counts_once_when_they_complete_again_in_it(runtime):
    window = kpis.Scope(scripted_year.TENANT, start=date(2021, 8, 1))
    async with runtime.engine.connect() as connection:
        before = await kpis.read(connection, Metric.PERSON_TIMES_TRAINED, window, date(2021, 9, 30))
        after = await kpis.read(connection, Metric.PERSON_TIMES_TRAINED, window, date(2021, 12, 31))
        ever = await kpis.read(connection, Metric.PERSON_TIMES_TRAINED, kpis.Scope(window.tenant), date(2021, 12, 31))

    assert (before.value, before.details["unique_people"]) == (0, 0)
    assert (after.value, after.details["unique_people"]) == (1, 1)  # t30's second course; t31 never came back
    assert (ever.value, ever.details["unique_people"]) == (3, 2)


async def test_an_enterprise_with_jobs_before_the_window_counts_once_when_it_has_one_in_it_again(runtime):
    window = kpis.Scope(scripted_year.TENANT, start=date(2025, 6, 1))
    async with runtime.engine.connect() as connection:
        reading = await kpis.read(connection, Metric.ENTERPRISE_TIMES, window, date(2025, 12, 31))

    # e1's calibrations of June to December (its first in March), e4's before it withdrew, e5's after it enrolled;
    # e2's jobs were all before June
    assert (reading.value, reading.details["unique_enterprises"]) == (9, 3)
    assert reading.details["channels"] == {"calibration": 9}


AGGREGATES = (
    rm.trainees,
    rm.first_days,
    rm.course_days,
    rm.training_days,
    rm.demand_dates,
    rm.verification_dates,
    rm.enterprise_days,
    rm.enterprise_firsts,
)


async def test_a_rebuild_empties_the_aggregates_with_the_facts(runtime):
    async with runtime.sessions.begin() as session:
        await runtime.subscriptions[0].projection.reset(session)
    async with runtime.engine.connect() as connection:
        for table in AGGREGATES:
            assert (await connection.execute(sa.select(sa.func.count()).select_from(table))).scalar_one() == 0


async def aggregate_rows(runtime: ServiceRuntime) -> dict[str, list[tuple[object, ...]]]:
    async with runtime.engine.connect() as connection:
        rows = {}
        for table in AGGREGATES:
            rows[table.name] = sorted((tuple(row) for row in await connection.execute(sa.select(table))), key=repr)
        flags = sa.select(rm.enterprise_jobs.c.job_key, rm.enterprise_jobs.c.enrolled)
        rows["enrolled"] = sorted(tuple(row) for row in await connection.execute(flags))
        return rows


async def test_a_replay_derives_at_its_end_exactly_the_aggregates_the_live_batches_keep(database_url):
    runtime = await folded(database_url, fold_live)
    try:
        kept = await aggregate_rows(runtime)
        runner = ProjectorRunner(runtime.sessions, runtime.subscriptions[0].projection, NoDeadLetters())
        await runner.reset()
        await fold_as_a_replay(runner)
        derived = await aggregate_rows(runtime)
    finally:
        await runtime.dispose()

    assert all(kept.values())  # every aggregate has rows: the comparison is not of empty tables
    assert derived == kept


async def test_a_replay_s_batches_leave_the_aggregates_to_its_end(database_url):
    runtime = await folded(database_url, fold_live)
    try:
        runner = ProjectorRunner(runtime.sessions, runtime.subscriptions[0].projection, NoDeadLetters())
        await runner.reset()
        runner.replaying = True
        await runner.handle([FakeRecord(envelope.to_json()) for envelope in script().envelopes()])
        during = await aggregate_rows(runtime)
        await runner.finish_replay()
        after = await aggregate_rows(runtime)
    finally:
        await runtime.dispose()

    assert not any(during[table.name] for table in AGGREGATES)
    assert {job for job, enrolled in during["enrolled"] if enrolled} == set()
    assert all(after.values())


async def test_flagging_every_job_rewrites_only_the_jobs_whose_flag_changes(database_url):
    runtime = await folded(database_url, fold_as_a_replay)
    jobs = rm.enterprise_jobs
    try:
        async with runtime.engine.begin() as connection:
            enrolled = (await connection.execute(sa.select(sa.func.count()).where(jobs.c.enrolled.is_(True)))).scalar()
            again = (await connection.execute(aggregates.flag_every_job_enrolled())).rowcount
            await connection.execute(sa.update(jobs).values(enrolled=False))  # as a replay writes them
            flagged = (await connection.execute(aggregates.flag_every_job_enrolled())).rowcount
            total = (await connection.execute(sa.select(sa.func.count()).select_from(jobs))).scalar()
    finally:
        await runtime.dispose()

    assert 0 < enrolled < total
    assert again == 0
    assert flagged == enrolled
