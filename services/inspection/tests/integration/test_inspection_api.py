"""A campaign's record over HTTP, on SQLite and PostgreSQL: findings judged against the replica, violations,
decisions and follow-ups; roles, tenants and bad input answered as problem+json."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from metrology.eventkit.store import events_table
from metrology.inspection.application.replica import Replica
from metrology.verification.domain import events as v

from .conftest import Service
from .world import ELSEWHERE, LAPSED, NEVER, VERIFIED, envelopes

pytestmark = [pytest.mark.integration]
PREFIX = "vn.metrology.inspection."


def types(answer: dict) -> list[str]:
    return [e["type"].removeprefix(PREFIX) for e in answer["events"]]


async def test_findings_say_registered_unregistered_or_overdue_from_the_replica(service: Service):
    visit = await service.visit(await service.campaign())
    path = f"/visits/{visit}/findings"
    verified = await service.post(path, {"instrument_id": VERIFIED})
    lapsed = await service.post(path, {"instrument_id": LAPSED, "defects": ["seal-broken"]})
    never = await service.post(path, {"type_code": "2.19", "serial": "CD-0003"})
    unknown = await service.post(path, {"type_code": "2.19", "serial": "CD-7777", "defects": ["no-stamp"]})

    assert types(verified) == ["finding-recorded.v1"]
    assert verified["events"][0]["verification_status"] == "valid"
    assert types(lapsed) == ["finding-recorded.v1", "overdue-instrument-found.v1"]
    assert lapsed["events"][0]["defects"] == ["seal-broken", "overdue"]
    assert lapsed["events"][1]["valid_until"] == "2026-03-01"
    assert never["events"][0]["instrument_id"] == NEVER, "a registered serial is resolved to its registry id"
    assert types(never)[1] == "overdue-instrument-found.v1" and never["events"][1]["valid_until"] is None
    assert types(unknown) == ["finding-recorded.v1", "instrument-found-unregistered.v1"]
    assert unknown["events"][1]["serial"] == "CD-7777"
    assert unknown["events"][1]["enterprise_id"] == "ent-petro-1"

    record = await service.get(f"/visits/{visit}")
    assert record["findings"] == 4
    assert [f["registry_status"] for f in record["finding_items"]].count("unregistered") == 1
    listed = await service.get("/findings", defect="overdue")
    assert {f["instrument_id"] for f in listed["items"]} == {LAPSED, NEVER}
    assert (await service.get("/findings", registry_status="unregistered"))["total"] == 1


async def test_a_violation_a_fine_and_a_follow_up_verification_complete_the_record(service: Service):
    visit = await service.visit(await service.campaign())
    finding = await service.post(f"/visits/{visit}/findings", {"instrument_id": LAPSED})
    violation = await service.post(f"/visits/{visit}/violations", {
        "finding_ids": [finding["id"]], "legal_basis": "Nghị định 119/2017/NĐ-CP, Điều 8",
        "description": "Cột đo xăng dầu quá hạn kiểm định vẫn sử dụng",
    })  # fmt: skip
    decision = await service.post(f"/visits/{visit}/decisions", {
        "decision_number": "15/QĐ-XPVPHC", "violation_ids": [violation["id"]], "sanction": "fine",
        "fine_vnd": 7_500_000, "remedies": ["Kiểm định lại cột đo"], "issued_by": "Chánh Thanh tra Sở",
        "issued_on": "2026-04-20",
    })  # fmt: skip
    order = await service.post(f"/visits/{visit}/follow-ups", {
        "finding_id": finding["id"], "ordered_on": "2026-04-20", "due_on": "2026-05-20",
    })  # fmt: skip
    assert types(decision) == ["decision-issued.v1"] and types(order) == ["follow-up-verification-ordered.v1"]

    record = await service.get(f"/visits/{visit}")
    assert record["violation_items"][0]["decision_id"] == decision["id"]
    assert record["decision_items"][0]["fine_vnd"] == 7_500_000
    assert record["follow_up_items"][0]["instrument_id"] == LAPSED
    assert (await service.get("/follow-ups", due_by="2026-05-31"))["total"] == 1
    summary = await service.get("/summary", year=2026)
    assert (summary["visits"], summary["items_inspected"], summary["violations"], summary["decisions"]) == (1, 1, 1, 1)
    assert summary["findings_by_defect"] == {"overdue": 1} and summary["fines_vnd"] == 7_500_000
    assert summary["follow_up_verifications_ordered"] == 1

    again = await service.post(f"/visits/{visit}/decisions", {
        "decision_number": "16/QĐ-XPVPHC", "violation_ids": [violation["id"]], "sanction": "warning",
        "issued_by": "Chánh Thanh tra Sở", "issued_on": "2026-04-21",
    }, status=409)  # fmt: skip
    assert again["rule"] == "violation-decided"


async def test_every_command_is_an_event_in_the_store_and_the_campaign_counts_its_visits(service: Service):
    campaign = await service.campaign()
    await service.visit(campaign)
    async with service.runtime.engine.connect() as connection:
        stored = (await connection.execute(sa.select(events_table.c.type))).scalars().all()
    assert [t.removeprefix(PREFIX) for t in stored] == [
        "inspection-plan-approved.v1", "campaign-launched.v1", "visit-recorded.v1",
    ]  # fmt: skip
    assert (await service.get(f"/campaigns/{campaign}"))["visits"] == 1
    assert (await service.get("/campaigns"))["total"] == 1 and (await service.get("/plans"))["total"] == 1


async def test_rules_and_bad_input_are_problems_naming_the_field(service: Service):
    campaign = await service.campaign()
    late = await service.post("/visits", {
        "campaign_id": campaign, "record_number": "BB-1", "venue_kind": "fuel-station", "venue_name": "CH 1",
        "commune_code": "28756", "inspectors": ["A B"], "visited_on": "2026-08-01",
    }, status=422)  # fmt: skip
    assert late["rule"] == "visit-in-campaign"
    visit = await service.visit(campaign)
    both = await service.post(f"/visits/{visit}/findings", {"instrument_id": VERIFIED, "serial": "CD-0001"}, 422)
    assert (both["rule"], both["errors"][0]["field"]) == ("finding-identity", "instrument_id")
    response = await service.http.post(f"/visits/{visit}/findings", json={"defects": ["rusty"]},
                                       headers=service.token())  # fmt: skip
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "body.defects.0"
    bad_type = await service.post(f"/visits/{visit}/findings", {"type_code": "9.99", "serial": "X"}, 422)
    assert bad_type["rule"] == "instrument-type-unknown"
    plan_less = await service.post("/campaigns", {
        "plan_id": "nowhere", "title": "Chợ", "decision_number": "1", "venue_kinds": ["market"],
        "prepackaged_goods": True, "starts_on": "2026-04-01", "ends_on": "2026-04-30",
    }, status=422)  # fmt: skip
    assert plan_less["rule"] == "plan-unknown"
    assert (await service.http.get("/visits/nowhere", headers=service.token("viewer"))).status_code == 404


async def test_viewers_read_province_admins_write_and_another_province_sees_nothing(service: Service):
    campaign = await service.campaign()
    visit = await service.visit(campaign)
    assert (await service.http.get("/visits")).status_code == 401
    viewer = service.token("viewer")
    refused = await service.http.post(f"/visits/{visit}/findings", json={"instrument_id": VERIFIED}, headers=viewer)
    assert refused.status_code == 403
    other = service.token("province-admin", tenant="86")
    assert (await service.http.get(f"/visits/{visit}", headers=other)).status_code == 404
    assert (await service.http.get("/campaigns", headers=other)).json()["total"] == 0
    foreign = await service.http.post(f"/visits/{visit}/findings", json={"instrument_id": VERIFIED}, headers=other)
    assert foreign.status_code == 404
    elsewhere = await service.post(f"/visits/{visit}/findings", {"instrument_id": ELSEWHERE}, status=422)
    assert elsewhere["rule"] == "instrument-unknown", "another province's instrument is not this one's"


async def test_a_certificate_revoked_before_the_visit_leaves_the_instrument_overdue(service: Service):
    revoked = v.CertificateRevoked(occurred_on=date(2026, 3, 10), certificate_number="KĐ-2026-001",
                                   job_id="job-KĐ-2026-001", subject_id=VERIFIED, reason="seal tampered")  # fmt: skip
    replica = Replica()
    async with service.runtime.sessions.begin() as session:
        for envelope in envelopes([(f"job-{VERIFIED}", revoked)], "/metrology/verification"):
            await replica.apply(session, envelope, envelope.event(replica.registry))
    visit = await service.visit(await service.campaign())
    finding = await service.post(f"/visits/{visit}/findings", {"instrument_id": VERIFIED})
    assert finding["events"][0]["verification_status"] == "overdue"
    assert types(finding) == ["finding-recorded.v1", "overdue-instrument-found.v1"]
