"""Kept aggregates under concurrent batches: two consumers of the projector's group (scaled out over the
partitions, or a standby taking over) may fold an instrument's registration and its due date at the same time,
each in its own transaction. Each recomputes the instrument's demand dates from the facts it can see; neither
sees the other's uncommitted row, so without serialising the recomputation the demand date would be lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import scripted_year
import sqlalchemy as sa

from metrology.eventkit.envelope import Envelope
from metrology.reporting.adapters import readmodel as rm
from metrology.reporting.adapters.aggregates import DERIVATIONS, derive_enterprise_days
from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.runtime import ServiceRuntime

pytestmark = pytest.mark.integration


@pytest.fixture
async def runtimes(postgres_url: str) -> AsyncIterator[tuple[ServiceRuntime, ServiceRuntime]]:
    """Two consumer processes of one read model: their own engines on the same database."""
    settings = ReportingSettings(service_name="reporting", database_url=postgres_url)
    first, second = bootstrap(settings, evaluate=False), bootstrap(settings, evaluate=False)
    await first.migrate()
    yield first, second
    await first.dispose()
    await second.dispose()


def the_instrument_and_its_verification() -> tuple[Envelope, Envelope]:
    envelopes = scripted_year.build().envelopes()
    registration = next(
        e for e in envelopes if e.type.endswith("instrument-registered.v1") and e.data["instrument_id"] == "i1"
    )
    verification = next(e for e in envelopes if e.type.endswith("work-recorded.v1") and e.data["job_id"] == "v-i1")
    return registration, verification


async def fold(runtime: ServiceRuntime, envelope: Envelope, commit: asyncio.Event | None = None) -> None:
    projection = runtime.subscriptions[0].projection
    async with runtime.sessions() as session, session.begin():
        await projection.apply(session, envelope, envelope.event(projection.registry))
        await projection.after_batch(session)
        if commit is not None:
            await commit.wait()


async def test_an_instrument_and_its_due_date_folded_at_once_by_two_consumers_still_make_a_demand_date(runtimes):
    first, second = runtimes
    registration, verification = the_instrument_and_its_verification()
    commit_first = asyncio.Event()
    folding_registration = asyncio.create_task(fold(first, registration, commit_first))
    await asyncio.sleep(1.0)  # the registration is written and its demand dates recomputed, not yet committed
    folding_verification = asyncio.create_task(fold(second, verification))
    await asyncio.sleep(1.0)  # the verification's batch runs meanwhile (or waits for its turn)
    commit_first.set()
    await asyncio.wait_for(asyncio.gather(folding_registration, folding_verification), 30)

    async with first.engine.connect() as connection:
        demand = (
            (
                await connection.execute(
                    sa.select(rm.demand_dates.c.due_on).where(rm.demand_dates.c.instrument_id == "i1")
                )
            )
            .scalars()
            .all()
        )
        due = (
            (await connection.execute(sa.select(rm.due_dates.c.due_on).where(rm.due_dates.c.instrument_id == "i1")))
            .scalars()
            .all()
        )
    assert due, "the verification's due date is stored"
    assert sorted(demand) == sorted(due), "every due date of a registered instrument is a demand date"


async def derive_and_hold(runtime: ServiceRuntime, derive, release: asyncio.Event) -> None:
    """A replay's derivation that keeps its transaction (and its locks) open until released."""
    async with runtime.sessions() as session, session.begin():
        await derive(session)
        await release.wait()


async def test_a_replay_s_derivations_run_together_and_a_live_batch_waits_for_them(runtimes):
    first, second = runtimes
    registration, _ = the_instrument_and_its_verification()
    await fold(first, registration)  # a tenant with facts
    release = asyncio.Event()
    derivations = [asyncio.create_task(derive_and_hold(first, derive, release)) for derive in DERIVATIONS[1:]]
    derivations.append(asyncio.create_task(derive_and_hold(second, DERIVATIONS[0], release)))
    await asyncio.sleep(1.5)  # each derivation has taken the tenant's lock, shared with the others
    live = asyncio.create_task(fold(second, registration))
    await asyncio.sleep(1.0)

    assert not any(task.done() for task in derivations)  # none waits for another: all hold their transaction
    assert not live.done()  # the live batch waits for the derivations
    release.set()
    await asyncio.wait_for(asyncio.gather(*derivations, live), timeout=10)


async def fold_all(runtime: ServiceRuntime, envelopes: list[Envelope]) -> None:
    projection = runtime.subscriptions[0].projection
    async with runtime.sessions() as session, session.begin():
        for envelope in envelopes:
            if projection.registry.knows(envelope.type):
                await projection.apply(session, envelope, envelope.event(projection.registry))
        await projection.after_batch(session)


async def test_the_enterprise_counts_are_derived_on_fresh_statistics_of_the_enterprises_they_join(runtimes):
    first, _ = runtimes
    async with first.engine.connect() as connection:
        await connection.execute(sa.text("ANALYZE kpi_enterprises"))  # as autovacuum may, early in a replay
    await fold_all(first, scripted_year.build().envelopes())
    async with first.sessions() as session, session.begin():
        await derive_enterprise_days(session)

    async with first.engine.connect() as connection:
        stored = await connection.scalar(sa.select(sa.func.count()).select_from(rm.enterprises))
        planned = await connection.scalar(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'kpi_enterprises'"))
    assert stored > 0
    assert planned == stored, "the planner knows how many enterprises the jobs are joined with"


async def index_definitions(runtime: ServiceRuntime) -> list[str]:
    async with runtime.engine.connect() as connection:
        query = "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexdef"
        return list((await connection.execute(sa.text(query))).scalars())


async def test_the_derivations_rewrite_their_aggregates_and_leave_every_index_as_the_migrations_made_it(runtimes):
    first, _ = runtimes
    migrated = await index_definitions(first)
    await fold_all(first, scripted_year.build().envelopes())
    for derive in DERIVATIONS:
        async with first.sessions() as session, session.begin():
            await derive(session)

    assert await index_definitions(first) == migrated
    async with first.engine.connect() as connection:
        for table in (rm.demand_dates, rm.verification_dates, rm.enterprise_days, rm.trainees, rm.course_days):
            assert await connection.scalar(sa.select(sa.func.count()).select_from(table)) > 0, table.name
