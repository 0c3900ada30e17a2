"""Instruments verification reports overdue or unfit are on the watchlist until a certificate is issued again,
with the date they were last inspected since (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from metrology.eventkit.events import DomainEvent
from metrology.inspection.application.replica import Replica
from metrology.verification.domain import events as v

from .conftest import Service
from .world import LAPSED, NEVER, OWNER, VERIFIED, envelopes

pytestmark = [pytest.mark.integration]


def fell_overdue(instrument_id: str, due_on: date, on: date) -> v.InstrumentFellOverdue:
    return v.InstrumentFellOverdue(
        occurred_on=on, instrument_id=instrument_id, due_on=due_on, type_code="2.19", serial="CD",
        owner_enterprise_id=OWNER, commune_code="28756",
    )  # fmt: skip


async def alert(service: Service, pairs: list[tuple[str, DomainEvent]]) -> None:
    replica = Replica()
    async with service.runtime.sessions.begin() as session:
        for envelope in envelopes(pairs, "/metrology/verification"):
            await replica.apply(session, envelope, envelope.event(replica.registry))


async def test_overdue_and_unfit_instruments_stay_on_the_watchlist_until_verified_again(service: Service):
    await alert(service, [
        (f"overdue-{NEVER}", fell_overdue(NEVER, date(2024, 1, 10), date(2024, 1, 11))),
        (f"overdue-{VERIFIED}", fell_overdue(VERIFIED, date(2025, 12, 1), date(2025, 12, 2))),  # certified 2026-02-01
        ("job-unfit", v.InstrumentMarkedUnfit(occurred_on=date(2026, 3, 5), job_id="j-9", subject_id=LAPSED,
                                              record_number="BB-KĐ-9")),
    ])  # fmt: skip
    listed = await service.get("/watchlist")
    assert [(i["instrument_id"], i["reason"], i["inspected_on"]) for i in listed["items"]] == [
        (NEVER, "overdue", None), (LAPSED, "unfit", None),
    ]  # fmt: skip
    assert listed["items"][0]["type_code"] == "2.19" and listed["items"][0]["due_on"] == "2024-01-10"
    assert (await service.get("/watchlist", reason="unfit"))["total"] == 1

    visit = await service.visit(await service.campaign())
    await service.post(f"/visits/{visit}/findings", {"instrument_id": NEVER})
    inspected = {i["instrument_id"]: i["inspected_on"] for i in (await service.get("/watchlist"))["items"]}
    assert inspected == {NEVER: "2026-04-14", LAPSED: None}


async def test_another_province_sees_none_of_the_watchlist(service: Service):
    await alert(service, [(f"overdue-{NEVER}", fell_overdue(NEVER, date(2024, 1, 10), date(2024, 1, 11)))])
    other = service.token("viewer", tenant="86")
    assert (await service.http.get("/watchlist", headers=other)).json()["total"] == 0
    assert (await service.http.get("/watchlist")).status_code == 401
