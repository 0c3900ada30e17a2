"""The write path over HTTP on PostgreSQL: checks against the replica, certificates, due dates, public check."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest
import sqlalchemy as sa

from metrology.eventkit.ids import new_id
from metrology.eventkit.store import events_table
from metrology.registry.domain import events as r
from metrology.verification.adapters.tables import jobs
from metrology.verification.application import handlers

from .conftest import Service, feed
from .world import CENTRE, METER, OTHER_OWNER, OUTSIDE, OUTSIDE_VERIFIER, OWNER, SCALE, STANDARD, VERIFIER, twin_of

pytestmark = [pytest.mark.integration]

JOB = {
    "kind": "verification",
    "mode": "periodic",
    "subject": "instrument",
    "subject_id": SCALE,
    "provider_id": CENTRE,
    "verifier_id": VERIFIER,
    "procedure": "ĐLVN 14:2009",
    "working_standard_id": STANDARD,
    "performed_on": "2025-05-14",
    "result": "pass",
}


async def stored_counts(service: Service) -> tuple[int, int]:
    async with service.runtime.engine.connect() as connection:
        events = (await connection.execute(sa.select(sa.func.count()).select_from(events_table))).scalar_one()
        job_rows = (await connection.execute(sa.select(sa.func.count()).select_from(jobs))).scalar_one()
    return events, job_rows


async def record(service: Service, body: dict, **claims: str):
    headers = service.token("province-admin") if not claims else service.token("provider", **claims)
    return await service.http.post("/jobs", json=body, headers=headers)


async def test_a_passed_verification_issues_a_certificate_valid_for_the_dated_interval(service: Service):
    response = await record(service, JOB)
    assert response.status_code == 201, response.text
    types = [e["type"] for e in response.json()["events"]]
    assert types == ["vn.metrology.verification.work-recorded.v1", "vn.metrology.verification.certificate-issued.v1"]
    issued = response.json()["events"][1]
    assert issued["valid_until"] == "2026-05-14"
    admin = service.token("province-admin")
    certificate = (await service.http.get(f"/certificates/{issued['certificate_number']}", headers=admin)).json()
    assert certificate["status"] == ("valid" if date.today() <= date(2026, 5, 14) else "expired")
    assert certificate["serial"] == "CB-0001" and certificate["provider_name"].startswith("Trung tâm")


async def test_jobs_are_named_by_version_7_uuids_in_the_order_recorded(service: Service):
    first = (await record(service, JOB)).json()["job_id"]
    second = (await record(service, JOB | {"performed_on": "2025-05-15"})).json()["job_id"]

    assert uuid.UUID(first).version == 7 and uuid.UUID(second).version == 7
    assert first < second


def ids_given(monkeypatch: pytest.MonkeyPatch, *first: str) -> None:
    """New jobs take the ids `first`, in order, then fresh ones."""
    given = iter(first)
    monkeypatch.setattr(handlers, "new_id", lambda: next(given, None) or new_id())


async def test_a_job_whose_id_gives_a_taken_certificate_number_is_recorded_under_another(
    service: Service, monkeypatch: pytest.MonkeyPatch
):
    first = (await record(service, JOB)).json()
    twin = twin_of(first["job_id"])
    before = await stored_counts(service)
    admin = service.token("province-admin")
    ids_given(monkeypatch, twin, twin)  # the twin once for a job written alone, once for one with its key

    alone = await service.http.post("/jobs", json=JOB | {"performed_on": "2025-05-15"}, headers=admin)
    keyed = await service.http.post(
        "/jobs", json=JOB | {"performed_on": "2025-05-16"}, headers=admin | {"Idempotency-Key": "twin"}
    )

    assert (alone.status_code, keyed.status_code) == (201, 201), (alone.text, keyed.text)
    answers = [first, alone.json(), keyed.json()]
    assert len({answer["job_id"] for answer in answers} | {twin}) == 4
    assert len({answer["events"][1]["certificate_number"] for answer in answers}) == 3
    events, job_rows = await stored_counts(service)
    assert (events - before[0], job_rows - before[1]) == (4, 2)  # nothing of the attempts under the twin id
    again = await service.http.post(
        "/jobs", json=JOB | {"performed_on": "2025-05-16"}, headers=admin | {"Idempotency-Key": "twin"}
    )
    assert again.json() == keyed.json()


async def test_the_due_date_follows_the_verification_and_the_public_check_follows_revocation(service: Service):
    issued = (await record(service, JOB)).json()["events"][1]
    admin = service.token("province-admin")
    due = await service.http.get("/due-dates", params={"from": "2026-05-01", "to": "2026-05-31"}, headers=admin)
    assert [i["instrument_id"] for i in due.json()["items"]] == [SCALE]
    public = await service.http.get(f"/public/certificates/{issued['certificate_number']}")
    assert public.status_code == 200
    assert "owner_enterprise_id" not in public.json() and public.json()["serial"] == "CB-0001"
    by_qr = await service.http.get("/public/certificates/check", params={"qr": issued["qr_payload"]})
    assert by_qr.json()["number"] == issued["certificate_number"]

    revoke = {"reason": "sticker found on another scale", "revoked_on": "2025-06-01"}
    response = await service.http.post(
        f"/certificates/{issued['certificate_number']}/revocations", json=revoke, headers=admin
    )
    assert response.status_code == 201, response.text
    assert (await service.http.get(f"/public/certificates/{issued['certificate_number']}")).json()[
        "status"
    ] == "revoked"
    overdue = await service.http.get("/due-dates/overdue", params={"as_of": "2025-06-02"}, headers=admin)
    assert [(i["instrument_id"], i["due_on"]) for i in overdue.json()["items"] if i["instrument_id"] == SCALE] == [
        (SCALE, "2025-06-01")
    ]


async def test_a_forged_qr_payload_is_refused(service: Service):
    issued = (await record(service, JOB)).json()["events"][1]
    forged = issued["qr_payload"].replace("2026-05-14", "2029-05-14")
    response = await service.http.get("/public/certificates/check", params={"qr": forged})
    assert response.status_code == 422
    assert response.json()["rule"] == "qr-invalid"


async def test_a_violated_rule_is_a_problem_naming_it_and_nothing_is_stored(service: Service):
    before = await stored_counts(service)
    response = await record(service, JOB | {"performed_on": "2025-12-02"})  # the standard was due on 2025-12-01
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["rule"] == "standard-calibration-expired"
    assert response.json()["errors"][0]["field"] == "working_standard_id"
    assert await stored_counts(service) == before


async def test_a_suspension_reaching_the_replica_stops_the_verifier(service: Service):
    suspended = r.VerifierSuspended(occurred_on=date(2025, 5, 1), provider_id=CENTRE, verifier_id=VERIFIER)
    await feed(service.runtime, [(f"provider-{CENTRE}", suspended)])
    response = await record(service, JOB)
    assert response.json()["rule"] == "verifier-suspended"
    assert (await record(service, JOB | {"performed_on": "2025-04-30"})).status_code == 201


async def test_a_revoked_designation_refuses_work_from_its_date(service: Service):
    revoked = r.DesignationRevoked(
        occurred_on=date(2025, 5, 14), provider_id=CENTRE, designation_id="des-1", reason="audit"
    )
    await feed(service.runtime, [(f"provider-{CENTRE}", revoked)])
    assert (await record(service, JOB)).json()["rule"] == "provider-not-designated"


async def test_an_instrument_out_of_use_cannot_be_verified(service: Service):
    change = r.InstrumentStatusChanged(occurred_on=date(2025, 1, 1), instrument_id=SCALE, status="out-of-use")
    await feed(service.runtime, [(f"instrument-{SCALE}", change)])
    assert (await record(service, JOB)).json()["rule"] == "instrument-not-in-use"


async def test_a_provider_records_only_for_itself(service: Service):
    response = await record(service, JOB, provider_id=OUTSIDE)
    assert response.status_code == 403
    own = JOB | {
        "provider_id": OUTSIDE,
        "verifier_id": OUTSIDE_VERIFIER,
        "working_standard_id": None,
        "mode": "cross-check",
    }
    response = await record(service, own | {"working_standard_id": STANDARD}, provider_id=OUTSIDE)
    assert response.status_code == 201, response.text


async def test_a_failed_verification_marks_the_instrument_unfit_and_overdue(service: Service):
    response = await record(service, JOB | {"result": "fail", "findings": "error beyond MPE"})
    assert [e["type"].split(".")[3] for e in response.json()["events"]] == ["work-recorded", "instrument-marked-unfit"]
    admin = service.token("province-admin")
    overdue = (await service.http.get("/due-dates/overdue", params={"as_of": "2025-05-15"}, headers=admin)).json()
    scale = next(i for i in overdue["items"] if i["instrument_id"] == SCALE)
    assert scale["unfit"] and not scale["fit_for_use"]
    certificates = await service.http.get("/certificates", headers=admin)
    assert certificates.json()["total"] == 0


async def test_an_enterprise_sees_only_its_own_instruments(service: Service):
    await record(service, JOB)
    await record(service, JOB | {"subject_id": METER})
    mine = service.token("enterprise", enterprise_id=OWNER)
    listed = (await service.http.get("/certificates", headers=mine)).json()
    assert [c["subject_id"] for c in listed["items"]] == [SCALE]
    due = (await service.http.get("/due-dates", params={"from": "2024-01-01", "to": "2030-01-01"}, headers=mine)).json()
    assert {i["owner_enterprise_id"] for i in due["items"]} == {OWNER}
    theirs = service.token("enterprise", enterprise_id=OTHER_OWNER)
    assert (await service.http.get("/certificates", headers=theirs)).json()["total"] == 1


async def test_demand_splits_verified_instruments_by_local_and_outside_providers(service: Service):
    await record(service, JOB | {"performed_on": "2024-03-01"})
    outside = JOB | {"subject_id": METER, "provider_id": OUTSIDE, "verifier_id": OUTSIDE_VERIFIER}
    assert (await record(service, outside | {"performed_on": "2024-02-20"})).status_code == 201
    admin = service.token("province-admin")
    figures = (
        await service.http.get("/demand", params={"from": "2024-01-01", "to": "2024-12-31"}, headers=admin)
    ).json()
    assert (figures["due"], figures["verified_by_local"], figures["verified_by_outside"]) == (2, 1, 1)
    assert figures["local_coverage"] == 0.5
    page = (
        await service.http.get("/demand", params={"from": "2024-01-01", "to": "2024-12-31", "limit": 1}, headers=admin)
    ).json()
    assert len(page["items"]) == 1 and page["total"] == 2


async def test_a_repeated_idempotency_key_records_once(service: Service):
    headers = service.token("province-admin") | {"Idempotency-Key": "job-scale-2025"}
    first = await service.http.post("/jobs", json=JOB, headers=headers)
    again = await service.http.post("/jobs", json=JOB, headers=headers)
    assert first.json() == again.json() and again.headers["Idempotent-Replayed"] == "true"
    assert (await stored_counts(service))[1] == 1


async def test_requests_racing_with_one_idempotency_key_record_one_job_and_its_events_once(service: Service):
    headers = service.token("province-admin") | {"Idempotency-Key": "job-scale-raced"}
    before = await stored_counts(service)

    answers = await asyncio.gather(*(service.http.post("/jobs", json=JOB, headers=headers) for _ in range(4)))

    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["job_id"] for a in answers}) == 1
    events, job_rows = await stored_counts(service)
    assert (events - before[0], job_rows - before[1]) == (len(answers[0].json()["events"]), 1)


async def test_bad_input_names_the_field(service: Service):
    response = await record(service, JOB | {"performed_on": "2025-02-30", "kind": "repair"})
    assert response.status_code == 422
    assert sorted(e["field"] for e in response.json()["errors"]) == ["body.kind", "body.performed_on"]


async def test_the_event_schemas_are_published(service: Service):
    schemas = (await service.http.get("/events/schemas", headers=service.token("viewer"))).json()
    assert "vn.metrology.verification.certificate-issued.v1" in schemas
    assert "provider_province_code" in schemas["vn.metrology.verification.work-recorded.v1"]["properties"]


POINT = {"quantity": "mass", "nominal": 20, "measured": 20.0004, "unit": "kg", "expanded_uncertainty": 0.0008}


async def test_a_calibration_certificate_issued_here_keeps_the_working_standard_usable(service: Service):
    late = JOB | {"performed_on": "2025-12-20"}
    assert (await record(service, late)).json()["rule"] == "standard-calibration-expired"
    calibration = JOB | {
        "kind": "calibration", "subject": "standard", "subject_id": STANDARD, "provider_id": OUTSIDE,
        "verifier_id": OUTSIDE_VERIFIER, "working_standard_id": None, "procedure": "ĐLVN 287:2016",
        "performed_on": "2025-11-25", "valid_until": "2026-11-25",
        "measurements": [POINT],
    }  # fmt: skip
    calibrated = await record(service, calibration)
    assert calibrated.status_code == 201, calibrated.text
    number = calibrated.json()["events"][1]["certificate_number"]
    certificate = (await service.http.get(f"/certificates/{number}", headers=service.token("viewer"))).json()
    assert certificate["measurements"][0]["coverage_factor"] == 2.0
    assert (await record(service, late)).status_code == 201
