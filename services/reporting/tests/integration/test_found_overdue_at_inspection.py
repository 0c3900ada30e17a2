"""Instruments found overdue at a state inspection appear beside T1 as a breakdown line (found, and of them due
in the period and not verified), on SQLite and PostgreSQL; T1's value and demand do not change."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from scripted_year import FakeRecord

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.projector import ProjectorRunner
from metrology.inspection.domain.events import OverdueInstrumentFound
from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.app import create_app
from metrology.servicekit.runtime import ServiceRuntime

pytestmark = [pytest.mark.integration]
UNMET, MET = "inst-unmet", "inst-met"


class DeadLetters:
    def __init__(self) -> None:
        self.letters: list[object] = []

    async def send(self, letters: list[object]) -> None:
        self.letters += letters


def envelope(type_: str, stream: str, data: dict[str, Any]) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()), type=type_, source="/metrology/test", time=datetime.now(UTC), stream_id=stream,
        stream_version=1, tenant="83", correlation_id=str(uuid.uuid4()), data=data,
    )  # fmt: skip


def world() -> list[Envelope]:
    """Two fuel dispensers registered in 2025 (so due then): one verified by the province's centre, one not."""
    r, v = "vn.metrology.registry.", "vn.metrology.verification."
    registered = [
        envelope(r + "instrument-registered.v1", f"instrument-{i}", {
            "occurred_on": "2025-03-01", "instrument_id": i, "type_code": "2.19", "serial": i, "manufacturer": "T",
            "owner_enterprise_id": "ent-1", "province_code": "83", "commune_code": "28756",
        })
        for i in (UNMET, MET)
    ]  # fmt: skip
    provider = envelope(r + "provider-registered.v1", "provider-p1", {
        "occurred_on": "2024-01-01", "provider_id": "p1", "name": "Trung tâm", "ownership": "state",
        "province_code": "83", "commune_code": "28756", "fields": ["volume"],
    })  # fmt: skip
    verified = envelope(v + "work-recorded.v1", "job-j1", {
        "occurred_on": "2025-03-05", "job_id": "j1", "kind": "verification", "mode": "initial", "subject": "instrument",
        "subject_id": MET, "type_code": "2.19", "owner_enterprise_id": "ent-1", "provider_id": "p1",
        "provider_province_code": "83", "verifier_id": "ver-1", "result": "pass",
    })  # fmt: skip
    return [provider, *registered, verified]


def found_overdue(instrument_id: str, finding_id: str, on: date) -> Envelope:
    event = OverdueInstrumentFound(
        occurred_on=on, visit_id="v1", finding_id=finding_id, instrument_id=instrument_id, type_code="2.19",
        owner_enterprise_id="ent-1", commune_code="28756", valid_until=None,
    )  # fmt: skip
    return envelope(event.type_name(), "visit-v1", event.model_dump(mode="json"))


@pytest.fixture
async def runtime(database_url: str) -> AsyncIterator[ServiceRuntime]:
    settings = ReportingSettings(
        service_name="reporting", database_url=database_url, evaluation_date=date(2025, 12, 31)
    )
    rt = bootstrap(settings)
    await rt.migrate()
    yield rt
    await rt.dispose()


async def fold(runtime: ServiceRuntime, envelopes: list[Envelope]) -> None:
    sink = DeadLetters()
    runner = ProjectorRunner(runtime.sessions, runtime.subscriptions[0].projection, sink)
    await runner.handle([FakeRecord(e.to_json()) for e in envelopes])
    assert sink.letters == []


async def coverage(runtime: ServiceRuntime) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(runtime)), base_url="http://r") as c:
        response = await c.get("/kpis/demand-coverage", params={"as_of": "2025-12-31", "from": "2025-01-01"})
    assert response.status_code == 200, response.text
    return dict(response.json())


def inspection_line(reading: dict[str, Any]) -> dict[str, int]:
    return {row["key"]: row["value"] for row in reading["breakdowns"]["inspection"]}


async def test_instruments_found_overdue_are_a_breakdown_line_beside_t1_not_part_of_it(runtime: ServiceRuntime):
    await fold(runtime, world())
    before = await coverage(runtime)
    assert (before["details"]["demand"], before["details"]["met"]) == (2, 1)
    assert inspection_line(before) == {"found-overdue": 0, "found-overdue-not-met": 0}

    await fold(runtime, [
        found_overdue(UNMET, "f1", date(2025, 6, 10)),
        found_overdue(UNMET, "f2", date(2025, 9, 1)),  # the same instrument found again: counted once
        found_overdue(MET, "f3", date(2025, 7, 1)),
        found_overdue(MET, "f4", date(2024, 7, 1)),  # before the period
    ])  # fmt: skip
    after = await coverage(runtime)
    assert inspection_line(after) == {"found-overdue": 2, "found-overdue-not-met": 1}
    assert (after["value"], after["details"]["demand"], after["details"]["met"]) == (
        before["value"], 2, 1,
    )  # fmt: skip
