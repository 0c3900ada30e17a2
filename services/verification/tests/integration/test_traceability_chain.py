"""The working standard's traceability chain, frozen into each certificate it served (PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from metrology.registry.domain import events as r

from .conftest import Service, feed
from .test_http_write_path import JOB, record
from .world import CENTRE, STANDARD

pytestmark = [pytest.mark.integration]
NATIONAL = "Chuẩn quốc gia khối lượng (kilôgam), Viện Đo lường Việt Nam"


def reference_standard(**overrides: object) -> tuple[str, r.StandardRegistered]:
    """std-ref-1, the reference standard the world's working standard was calibrated against."""
    fields: dict = {
        "occurred_on": date(2023, 1, 5),
        "standard_id": "std-ref-1",
        "owner_id": CENTRE,
        "name": "Bộ quả cân chuẩn F1",
        "quantity": "mass",
        "measuring_range": "1 mg - 20 kg",
        "accuracy": "F1",
        "level": "reference",
        "calibrated_against": None,
        "national_standard": NATIONAL,
        "certificate_number": "VMI-2024-0815",
        "calibrated_on": date(2024, 6, 1),
        "due_on": date(2026, 6, 1),
    }
    return "standard-std-ref-1", r.StandardRegistered(**(fields | overrides))


async def certificate_of(service: Service, response) -> dict:
    assert response.status_code == 201, response.text
    issued = response.json()["events"][1]
    admin = service.token("province-admin")
    return (await service.http.get(f"/certificates/{issued['certificate_number']}", headers=admin)).json()


async def test_a_certificate_carries_the_chain_from_its_working_standard_up_to_the_national_standard(service):
    await feed(service.runtime, [reference_standard()])

    response = await record(service, JOB)

    issued = response.json()["events"][1]
    chain = issued["traceability"]
    assert [link["standard_id"] for link in chain] == [STANDARD, "std-ref-1"]
    working, reference = chain
    assert (working["level"], working["certificate_number"], working["calibrated_against"]) == (
        "working",
        "HC-2024-001",
        "std-ref-1",
    )
    assert (working["calibrated_on"], working["due_on"]) == ("2024-12-01", "2025-12-01")
    assert (reference["national_standard"], reference["certificate_number"]) == (NATIONAL, "VMI-2024-0815")
    certificate = await certificate_of(service, response)
    assert certificate["traceability"] == chain


async def test_the_chain_is_frozen_when_the_standard_is_recalibrated_later(service):
    await feed(service.runtime, [reference_standard()])
    before = await certificate_of(service, await record(service, JOB))
    recalibration = {
        "kind": "calibration",
        "mode": "periodic",
        "subject": "standard",
        "subject_id": STANDARD,
        "provider_id": CENTRE,
        "verifier_id": JOB["verifier_id"],
        "procedure": "ĐLVN 284:2015",
        "working_standard_id": "std-ref-1",
        "performed_on": "2025-06-02",
        "valid_until": "2026-06-02",
        "result": "pass",
        "measurements": [
            {"quantity": "mass", "nominal": 1.0, "measured": 1.000002, "unit": "kg", "expanded_uncertainty": 0.000005}
        ],
    }
    recalibrated = await record(service, recalibration)
    assert recalibrated.status_code == 201, recalibrated.text
    number = recalibrated.json()["events"][1]["certificate_number"]

    after = await certificate_of(service, await record(service, {**JOB, "performed_on": "2025-06-20"}))

    assert before["traceability"][0]["certificate_number"] == "HC-2024-001"
    assert after["traceability"][0]["certificate_number"] == number
    assert after["traceability"][0]["due_on"] == "2026-06-02"
    assert [link["standard_id"] for link in recalibrated.json()["events"][1]["traceability"]] == ["std-ref-1"]


async def test_a_chain_stops_at_the_first_standard_the_replica_does_not_hold(service):
    chain = (await record(service, JOB)).json()["events"][1]["traceability"]
    assert [link["standard_id"] for link in chain] == [STANDARD]
    assert chain[0]["calibrated_against"] == "std-ref-1" and chain[0]["national_standard"] is None


async def test_a_failed_verification_issues_no_certificate_and_so_no_chain(service):
    await feed(service.runtime, [reference_standard()])
    failed = await record(service, {**JOB, "result": "fail", "findings": "error beyond the limit"})
    assert failed.status_code == 201, failed.text
    assert [e["type"].split(".")[3] for e in failed.json()["events"]] == ["work-recorded", "instrument-marked-unfit"]


async def test_a_chain_that_loops_ends_where_it_repeats(service):
    await feed(service.runtime, [reference_standard(calibrated_against=STANDARD, national_standard=None)])
    chain = (await record(service, JOB)).json()["events"][1]["traceability"]
    assert [link["standard_id"] for link in chain] == [STANDARD, "std-ref-1"]
