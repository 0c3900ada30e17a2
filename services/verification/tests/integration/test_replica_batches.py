"""The replica folds a batch in memory and writes it at the batch's end: the tables must not depend on where
batches begin and end (one batch for everything, or one event per batch), on PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from metrology.eventkit.database import create_engine, create_schema, session_factory
from metrology.eventkit.store import metadata as store_metadata
from metrology.registry.domain import events as r
from metrology.verification.adapters.tables import metadata
from metrology.verification.application.replica import REPLICA_TABLES, RegistryReplica

from .world import CENTRE, METER, SCALE, VERIFIER, envelopes, registry_events

pytestmark = [pytest.mark.integration]


def history() -> list[Any]:
    d, status = date, r.InstrumentStatusChanged
    later = [
        (f"provider-{CENTRE}", r.DesignationRenewed(
            occurred_on=d(2027, 12, 1), provider_id=CENTRE, designation_id="des-1", decision_number="QĐ-99/2027",
            valid_until=d(2033, 1, 31))),
        (f"provider-{CENTRE}", r.VerifierSuspended(
            occurred_on=d(2025, 5, 1), provider_id=CENTRE, verifier_id=VERIFIER)),
        (f"provider-{CENTRE}", r.VerifierReinstated(
            occurred_on=d(2025, 6, 1), provider_id=CENTRE, verifier_id=VERIFIER)),
        (f"instrument-{SCALE}", status(occurred_on=d(2025, 1, 1), instrument_id=SCALE, status="out-of-use")),
        (f"instrument-{SCALE}", status(occurred_on=d(2025, 3, 1), instrument_id=SCALE, status="in-use")),
        (f"instrument-{METER}", status(occurred_on=d(2025, 2, 1), instrument_id=METER, status="retired")),
        (f"provider-{CENTRE}", r.DesignationRevoked(
            occurred_on=d(2028, 2, 1), provider_id=CENTRE, designation_id="des-1",
            reason="audit")),
        ("instrument-ghost", status(occurred_on=d(2025, 1, 1), instrument_id="ghost", status="retired")),
    ]  # fmt: skip
    return [*registry_events(), *later]


async def folded(url: str, batch: int) -> dict[str, list[tuple[Any, ...]]]:
    engine = create_engine(url)
    await create_schema(engine, store_metadata, metadata)
    sessions, replica = session_factory(engine), RegistryReplica()
    items = envelopes(history())
    for start in range(0, len(items), batch):
        async with sessions.begin() as session:
            for envelope in items[start : start + batch]:
                await replica.apply(session, envelope, envelope.event(replica.registry))
            await replica.after_batch(session)
    async with engine.connect() as connection:
        tables = {}
        for table in REPLICA_TABLES:
            order = list(table.primary_key.columns)
            tables[table.name] = [tuple(row) for row in await connection.execute(sa.select(table).order_by(*order))]
    async with sessions.begin() as session:
        await replica.reset(session)
    await engine.dispose()
    return tables


async def test_batch_boundaries_do_not_change_the_replica(database_url: str):
    whole = await folded(database_url, batch=1000)
    assert whole == await folded(database_url, batch=1)
    assert whole == await folded(database_url, batch=4)
    instruments = {row[0]: row for row in whole["replica_instruments"]}
    assert instruments[SCALE][-1] == [["2025-01-01", "out-of-use"], ["2025-03-01", "in-use"]]
    assert "ghost" not in instruments
    due = {row[0]: row for row in whole["instrument_due"]}
    assert due[SCALE][6] == "in-use" and due[METER][6] == "retired"
    designation = next(row for row in whole["replica_designations"] if row[0] == "des-1")
    assert designation[7] == [["2027-12-01", "2033-01-31"]] and designation[8] == date(2028, 2, 1)
    verifier = next(row for row in whole["replica_verifiers"] if row[0] == VERIFIER)
    assert verifier[-1] == [["2025-05-01", True], ["2025-06-01", False]]
