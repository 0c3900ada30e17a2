"""From the registry to a certificate: registry and verification as processes on Kafka and PostgreSQL.

Register an enterprise, a provider with a designation, a verifier, a working standard and an instrument; record
a verification; see the certificate, the due date and the public check; revoke it and see the check say revoked.
"""

from __future__ import annotations

import time

import httpx
import pytest
from kafka import KafkaConsumer

from metrology.testkit.records import as_cloudevent

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


def created(response: httpx.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def build_registry(registry: httpx.Client) -> dict[str, str]:
    enterprise = created(
        registry.post(
            "/enterprises",
            json={
                "tax_code": "0300588569",
                "name": "Công ty TNHH Thủy sản Bến Tre",
                "sector": "seafood",
                "address": "Phường An Hội, Bến Tre",
                "province_code": "83",
                "commune_code": "28756",
                "registered_on": "2024-01-10",
            },
        )
    )["id"]
    provider = created(
        registry.post(
            "/providers",
            json={
                "name": "Trung tâm Kỹ thuật TĐC Bến Tre",
                "ownership": "state",
                "province_code": "83",
                "commune_code": "28756",
                "fields": ["mass"],
                "registration_certificate_number": "01/ĐKDV",
                "registration_certificate_date": "2023-01-05",
                "registered_on": "2023-01-05",
            },
        )
    )["id"]
    created(
        registry.post(
            f"/providers/{provider}/designations",
            json={
                "decision_number": "245/QĐ-TĐC",
                "instrument_types": ["2.8b"],
                "fields": ["mass"],
                "designated_on": "2023-02-01",
            },
        )
    )
    verifier = created(
        registry.post(
            f"/providers/{provider}/verifiers",
            json={
                "card_number": "KĐV-83-0001",
                "full_name": "Nguyễn Văn An",
                "fields": ["mass"],
                "certified_on": "2023-03-01",
            },
        )
    )["id"]
    reference = created(
        registry.post(
            "/standards",
            json={
                "owner_id": provider,
                "name": "Bộ quả cân F1",
                "quantity": "mass",
                "measuring_range": "1 g - 20 kg",
                "accuracy": "F1",
                "level": "reference",
                "national_standard": "Chuẩn quốc gia khối lượng",
                "certificate_number": "V01.2024.0007",
                "calibrated_on": "2024-11-20",
                "due_on": "2026-11-20",
            },
        )
    )["id"]
    standard = created(
        registry.post(
            "/standards",
            json={
                "owner_id": provider,
                "name": "Bộ quả cân M1",
                "quantity": "mass",
                "measuring_range": "1 g - 20 kg",
                "accuracy": "M1",
                "level": "working",
                "calibrated_against": reference,
                "certificate_number": "HC-2025-0001",
                "calibrated_on": "2025-01-10",
                "due_on": "2026-01-10",
            },
        )
    )["id"]
    instrument = created(
        registry.post(
            "/instruments",
            json={
                "type_code": "2.8b",
                "serial": "CB-2024-0001",
                "manufacturer": "Nhơn Hòa",
                "type_approval_number": "PDM 021-2019",
                "owner_enterprise_id": enterprise,
                "province_code": "83",
                "commune_code": "28756",
                "registered_on": "2024-02-01",
            },
        )
    )["id"]
    return {
        "enterprise": enterprise,
        "provider": provider,
        "verifier": verifier,
        "standard": standard,
        "instrument": instrument,
    }


def replica_holds(verification: httpx.Client, **at_least: int) -> bool:
    counts = verification.get("/replica").json()
    return all(counts[table] >= n for table, n in at_least.items())


def published_types(platform, topic: str, until: str) -> list[str]:
    consumer = KafkaConsumer(
        platform.prefix + topic, bootstrap_servers=platform.kafka_bootstrap, auto_offset_reset="earliest",
        consumer_timeout_ms=15000, enable_auto_commit=False,
    )  # fmt: skip
    types: dict[str, str] = {}  # by event id: delivery is at least once, a record may be on the topic twice
    try:
        for record in consumer:
            event = as_cloudevent(record.headers, record.value)
            types.setdefault(event["id"], event["type"])
            if event["type"] == until:
                break
    finally:
        consumer.close()
    return list(types.values())


def test_a_verification_recorded_against_the_registry_yields_a_certificate_checkable_in_public(platform):
    platform.start("registry")
    platform.start("verification")
    admin = {"Authorization": f"Bearer {platform.token('province-admin')}"}
    registry = httpx.Client(base_url=platform.url("registry"), headers=admin, timeout=10)
    verification = httpx.Client(base_url=platform.url("verification"), headers=admin, timeout=10)
    ids = build_registry(registry)
    wait_for(lambda: replica_holds(verification, designations=1, verifiers=1, standards=2, instruments=1))

    provider = {"Authorization": f"Bearer {platform.token('provider', provider_id=ids['provider'])}"}
    job = {
        "kind": "verification", "mode": "periodic", "subject": "instrument", "subject_id": ids["instrument"],
        "provider_id": ids["provider"], "verifier_id": ids["verifier"], "procedure": "ĐLVN 14:2009",
        "working_standard_id": ids["standard"], "performed_on": "2025-06-10", "result": "pass",
        "sticker_serial": "TEM-83-0000123",
    }  # fmt: skip
    stale = verification.post("/jobs", json=job | {"performed_on": "2026-01-11"}, headers=provider)
    assert stale.status_code == 422 and stale.json()["rule"] == "standard-calibration-expired"
    issued = created(verification.post("/jobs", json=job, headers=provider))["events"][1]
    number = issued["certificate_number"]
    assert issued["valid_until"] == "2026-06-10"  # 2.8b: 12 months

    owner = {"Authorization": f"Bearer {platform.token('enterprise', enterprise_id=ids['enterprise'])}"}
    mine = verification.get("/certificates", headers=owner).json()
    assert [c["number"] for c in mine["items"]] == [number]
    due = verification.get("/due-dates", params={"from": "2026-06-01", "to": "2026-06-30"}, headers=owner).json()
    assert [(i["instrument_id"], i["due_on"]) for i in due["items"]] == [(ids["instrument"], "2026-06-10")]

    public = httpx.get(f"{platform.url('verification')}/public/certificates/{number}")
    assert public.status_code == 200 and public.json()["serial"] == "CB-2024-0001"
    assert public.json()["status"] in {"valid", "expired"} and "owner_enterprise_id" not in public.json()
    by_qr = httpx.get(f"{platform.url('verification')}/public/certificates/check", params={"qr": issued["qr_payload"]})
    assert by_qr.json()["number"] == number

    revoked = verification.post(
        f"/certificates/{number}/revocations", json={"reason": "sticker on another scale", "revoked_on": "2025-07-01"}
    )
    assert revoked.status_code == 201, revoked.text
    assert httpx.get(f"{platform.url('verification')}/public/certificates/{number}").json()["status"] == "revoked"
    assert (
        httpx.get(
            f"{platform.url('verification')}/public/certificates/check", params={"qr": issued["qr_payload"]}
        ).json()["status"]
        == "revoked"
    )

    types = published_types(platform, "metrology.verification.v1", "vn.metrology.verification.certificate-revoked.v1")
    assert [t.split(".")[3] for t in types] == ["work-recorded", "certificate-issued", "certificate-revoked"]


def test_a_provider_cannot_record_outside_its_designation(platform):
    platform.start("registry")
    platform.start("verification")
    admin = {"Authorization": f"Bearer {platform.token('province-admin')}"}
    registry = httpx.Client(base_url=platform.url("registry"), headers=admin, timeout=10)
    verification = httpx.Client(base_url=platform.url("verification"), headers=admin, timeout=10)
    ids = build_registry(registry)
    wait_for(lambda: replica_holds(verification, designations=1, verifiers=1, standards=2, instruments=1))
    registry.post(
        f"/providers/{ids['provider']}/verifiers/{ids['verifier']}/suspension", json={"on": "2025-05-01"}
    ).raise_for_status()
    provider = {"Authorization": f"Bearer {platform.token('provider', provider_id=ids['provider'])}"}
    job = {
        "kind": "verification", "mode": "periodic", "subject_id": ids["instrument"], "provider_id": ids["provider"],
        "verifier_id": ids["verifier"], "procedure": "ĐLVN 14:2009", "working_standard_id": ids["standard"],
        "performed_on": "2024-01-15", "result": "pass",
    }  # fmt: skip
    too_early = verification.post("/jobs", json=job | {"performed_on": "2023-01-20"}, headers=provider)
    assert too_early.json()["rule"] == "provider-not-designated"
    wait_for(lambda: replica_holds(verification, verifier_status_changes=1))
    refused = verification.post("/jobs", json=job | {"performed_on": "2025-06-01"}, headers=provider)
    assert refused.json()["rule"] == "verifier-suspended"
    assert verification.get("/jobs").json()["total"] == 0, "a refused job stores nothing"
