"""The registry's HTTP API on PostgreSQL, with events read back from Kafka."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.integration

ENTERPRISE = {
    "tax_code": "0300588569",
    "name": "Công ty TNHH Xăng dầu Mỏ Cày",
    "sector": "fuel-retail",
    "address": "Quốc lộ 57, xã Mỏ Cày",
    "province_code": "83",
    "commune_code": "28975",
    "registered_on": "2024-03-01",
}


def instrument(owner_id: str, **overrides: object) -> dict[str, object]:
    body = {
        "type_code": "2.19",
        "serial": "TK-2024-0001",
        "manufacturer": "Tatsuno",
        "type_approval_number": "PDM 149-2019",
        "owner_enterprise_id": owner_id,
        "province_code": "83",
        "commune_code": "28975",
        "registered_on": "2024-04-01",
    }
    return body | overrides


def test_a_registered_enterprise_is_published_as_a_cloudevent_keyed_by_its_stream(api):
    enterprise_id = api.created("/enterprises", ENTERPRISE)

    [record] = api.published(1)

    assert record["_key"] == f"enterprise-{enterprise_id}"
    assert record["type"] == "vn.metrology.registry.enterprise-registered.v1"
    assert record["specversion"] == "1.0"
    assert record["source"] == "/metrology/registry"
    assert record["streamid"] == f"enterprise-{enterprise_id}"
    assert record["streamversion"] == 1
    assert record["tenant"] == "83"
    assert record["dataschema"] == "urn:metrology:schema:vn.metrology.registry.enterprise-registered:1"
    assert record["data"]["tax_code"] == "0300588569"
    assert record["data"]["occurred_on"] == "2024-03-01"
    assert record["data"]["commune_code"] == "28975"


def test_entities_are_named_by_version_7_uuids_in_the_order_registered(api):
    enterprise_id = api.created("/enterprises", ENTERPRISE)
    instruments = [api.created("/instruments", instrument(enterprise_id, serial=f"TK-{n}")) for n in range(3)]

    ids = [enterprise_id, *instruments]
    assert all(uuid.UUID(value).version == 7 for value in ids)
    assert ids == sorted(ids)  # each index keyed by them grows at its right end


def test_a_tax_code_is_registered_once_per_tenant(api):
    api.created("/enterprises", ENTERPRISE)

    again = api.post("/enterprises", ENTERPRISE | {"name": "Another name"})

    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["errors"][0]["field"] == "tax_code"
    assert api.client.get("/enterprises", headers=api.admin).json()["total"] == 1


def test_a_tax_code_failing_its_check_digit_is_refused_naming_the_field(api):
    response = api.post("/enterprises", ENTERPRISE | {"tax_code": "0300588568"})

    assert response.status_code == 422
    assert response.json()["rule"] == "tax-code-check-digit"
    assert response.json()["errors"][0]["field"] == "tax_code"


def test_an_instrument_needs_a_type_approval_number_when_its_type_requires_one(api):
    owner = api.created("/enterprises", ENTERPRISE)

    response = api.post("/instruments", instrument(owner, type_approval_number=None))

    assert response.status_code == 422
    assert response.json()["rule"] == "type-approval-required"
    assert api.client.get("/instruments", headers=api.admin).json()["total"] == 0


def test_an_instrument_of_a_closed_enterprise_is_refused(api):
    owner = api.created("/enterprises", ENTERPRISE)
    closed = api.client.post(f"/enterprises/{owner}/closure", json={"closed_on": "2024-05-01"}, headers=api.admin)
    assert closed.status_code == 200, closed.text

    response = api.post("/instruments", instrument(owner))

    assert response.status_code == 422
    assert response.json()["rule"] == "owner-closed"


def test_the_provider_journey_publishes_designation_and_verifier_events_in_order(api):
    provider = api.created(
        "/providers",
        {
            "name": "Công ty CP Kiểm định Nam Bộ",
            "ownership": "socialised",
            "province_code": "83",
            "commune_code": "28756",
            "fields": ["volume", "mass"],
            "registration_certificate_number": "05/ĐKDV-TĐC",
            "registration_certificate_date": "2023-06-01",
            "registered_on": "2023-06-01",
        },
    )
    designation = api.created(
        f"/providers/{provider}/designations",
        {
            "decision_number": "245/QĐ-TĐC",
            "instrument_types": ["2.19", "2.8b"],
            "fields": ["volume", "mass"],
            "designated_on": "2024-01-15",
        },
    )
    verifier = api.created(
        f"/providers/{provider}/verifiers",
        {"card_number": "KĐV-0012", "full_name": "Trần Thị Bích", "fields": ["volume"], "certified_on": "2024-02-01"},
    )
    suspended = api.client.post(
        f"/providers/{provider}/verifiers/{verifier}/suspension", json={"on": "2024-06-01"}, headers=api.admin
    )
    assert suspended.status_code == 200, suspended.text
    revoked = api.client.post(
        f"/providers/{provider}/designations/{designation}/revocation",
        json={"revoked_on": "2025-02-01", "reason": "work outside the designated scope"},
        headers=api.admin,
    )
    assert revoked.status_code == 200, revoked.text

    records = api.published(5)
    assert [r["type"].split(".")[-2] for r in records] == [
        "provider-registered",
        "provider-designated",
        "verifier-certified",
        "verifier-suspended",
        "designation-revoked",
    ]
    assert {r["_key"] for r in records} == {f"provider-{provider}"}
    assert records[1]["data"]["valid_until"] == "2029-01-14"
    view = api.client.get(f"/providers/{provider}", params={"as_of": "2024-12-31"}, headers=api.admin).json()
    assert view["designations"][0]["status"] == "valid"
    assert view["verifiers"][0]["status"] == "suspended"
    later = api.client.get(f"/providers/{provider}", params={"as_of": "2025-02-01"}, headers=api.admin).json()
    assert later["designations"][0]["status"] == "revoked"


def test_a_designation_for_a_type_not_on_the_group2_list_is_refused(api):
    provider = api.created(
        "/providers",
        {
            "name": "Trung tâm Kỹ thuật TĐC Bến Tre",
            "ownership": "state",
            "province_code": "83",
            "commune_code": "28756",
            "fields": ["volume"],
            "registration_certificate_number": "01/ĐKDV",
            "registration_certificate_date": "2017-01-01",
        },
    )

    response = api.post(
        f"/providers/{provider}/designations",
        {
            "decision_number": "1/QĐ",
            "instrument_types": ["2.19", "9.99"],
            "fields": ["volume"],
            "designated_on": "2024-01-01",
        },
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "instrument_types"
    assert "9.99" in response.json()["detail"]


def test_an_enterprise_sees_only_its_own_instruments(api):
    mine = api.created("/enterprises", ENTERPRISE)
    theirs = api.created("/enterprises", ENTERPRISE | {"tax_code": "0101248141", "name": "Công ty Nước Bến Tre"})
    own_instrument = api.created("/instruments", instrument(mine))
    other_instrument = api.created("/instruments", instrument(theirs, serial="TK-2024-0002"))
    enterprise = api.token("enterprise", enterprise_id=mine)

    listed = api.client.get("/instruments", headers=enterprise).json()

    assert [i["instrument_id"] for i in listed["items"]] == [own_instrument]
    assert api.client.get(f"/instruments/{other_instrument}", headers=enterprise).status_code == 404
    assert api.client.get("/instruments", params={"owner_enterprise_id": theirs}, headers=enterprise).status_code == 403
    assert api.client.get("/instruments", headers=api.token("viewer")).json()["total"] == 2


def test_a_provider_or_viewer_cannot_register_an_enterprise(api):
    for role in ("provider", "viewer", "enterprise"):
        response = api.post("/enterprises", ENTERPRISE, headers=api.token(role))
        assert response.status_code == 403, role
    assert api.client.get("/enterprises", headers=api.admin).json()["total"] == 0


def test_the_traceability_chain_reaches_the_national_standard(api):
    lab = api.created(
        "/laboratories",
        {"name": "PTN Đo lường", "owner": "Trung tâm TĐC", "province_code": "83", "commune_code": "28756"},
    )
    common = {
        "owner_id": lab,
        "quantity": "volume",
        "accuracy": "±0.05 %",
        "calibrated_on": "2024-01-10",
        "due_on": "2025-01-10",
    }
    reference = api.created(
        "/standards",
        common
        | {
            "name": "Bình chuẩn 100 L",
            "measuring_range": "100 L",
            "level": "reference",
            "national_standard": "Chuẩn quốc gia dung tích (VMI)",
            "certificate_number": "V04.1",
        },
    )
    working = api.created(
        "/standards",
        common
        | {
            "name": "Bình chuẩn 20 L",
            "measuring_range": "20 L",
            "level": "working",
            "calibrated_against": reference,
            "certificate_number": "V04.2",
        },
    )

    chain = api.client.get(f"/standards/{working}/chain", headers=api.admin).json()

    assert [s["standard_id"] for s in chain["chain"]] == [working, reference]
    assert chain["national_standard"] == "Chuẩn quốc gia dung tích (VMI)"
    assert chain["complete"] is True


def test_a_repeated_idempotency_key_returns_the_first_answer_and_writes_nothing(api):
    headers = api.admin | {"Idempotency-Key": "enterprise-0300588569"}
    first = api.post("/enterprises", ENTERPRISE, headers=headers)
    second = api.post("/enterprises", ENTERPRISE, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert api.client.get("/enterprises", headers=api.admin).json()["total"] == 1


def test_the_demo_data_loads_over_http_and_a_second_run_adds_nothing(api):
    from metrology.registry.demo import DemoLoader, demo_dataset

    data = demo_dataset()
    data.instruments = data.instruments[:60]  # the whole set loads the same way; this keeps the test quick
    data.retirements = []
    api.client.headers.update(api.admin)
    first = DemoLoader(api.client).load(data)
    second = DemoLoader(api.client).load(data)

    assert first["enterprises"] == len(data.enterprises)
    assert first["instruments"] == len(data.instruments)
    assert second == {}
    assert api.client.get("/instruments", params={"limit": 1}).json()["total"] == len(data.instruments)
    labs = api.client.get("/laboratories").json()["items"]
    assessed_in_city = [lab for lab in labs if lab["accreditations"] and any(a["passed"] for a in lab["assessments"])]
    assert len(assessed_in_city) == 2
    centre = api.client.get("/providers", params={"ownership": "state", "as_of": "2027-01-01"}).json()["items"][0]
    assert centre["designations"][0]["valid_until"] == "2031-05-09"
    assert centre["designations"][0]["status"] == "valid"
