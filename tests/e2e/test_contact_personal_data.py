"""Registry, verification, outreach and reporting as processes on real Kafka and PostgreSQL: an enterprise's
contact person, a verifier's name and a programme participation's contact travel sealed per person, the actor as
a pseudonym; erasing the three people leaves their plaintext nowhere (events tables, Kafka topics, every table of
every service) and the KPIs counted by reporting where they were."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import httpx
import pytest
from kafka import KafkaConsumer

from metrology.eventkit.envelope import Envelope
from metrology.testkit.records import record_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

SUBJECT = "huynh.thi.thu@sokhcn.bentre.gov.vn"  # the token's subject: events carry a pseudonym of it
CONTACT = {"contact_name": "Huỳnh Văn Lộc", "contact_phone": "0275 3811 456", "contact_email": "loc@moccay.vn"}
VERIFIER_NAME = "Trần Thị Bích Ngọc"
PARTICIPANT = {"contact_name": "Nguyễn Thị Ánh Tuyết", "contact_phone": "0918 765 432"}
APPROVER = "Lê Quang Vinh, Giám đốc"
SECRETS = (*CONTACT.values(), VERIFIER_NAME, *PARTICIPANT.values(), APPROVER, SUBJECT)
SERVICES = ("registry", "verification", "outreach", "reporting")
ENTERPRISE = {
    "tax_code": "0300588569",
    "name": "Công ty TNHH Xăng dầu Mỏ Cày",
    "sector": "fuel-retail",
    "address": "Quốc lộ 57, xã Mỏ Cày",
    "province_code": "83",
    "commune_code": "28975",
    "registered_on": "2024-03-01",
}
PROVIDER = {
    "name": "Công ty CP Kiểm định Nam Bộ",
    "ownership": "socialised",
    "province_code": "83",
    "commune_code": "28756",
    "fields": ["mass"],
    "registration_certificate_number": "05/ĐKDV-TĐC",
    "registration_certificate_date": "2023-06-01",
    "registered_on": "2023-06-01",
}
DESIGNATION = {"decision_number": "245/QĐ-TĐC", "instrument_types": ["2.8b"], "fields": ["mass"]}


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what} not reached in time")


def created(client: httpx.Client, path: str, body: dict[str, Any]) -> str:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def kpis(platform) -> tuple[float, float]:
    def value(metric: str) -> float:
        answer = httpx.get(f"{platform.url('reporting')}/kpis/{metric}", params={"as_of": "2025-12-31"})
        answer.raise_for_status()
        return float(answer.json()["value"])

    return value("enterprise-times"), value("socialised-providers")


def topic_bytes(platform) -> tuple[bytes, list[Envelope]]:
    topics = [f"{platform.prefix}metrology.{service}.v1" for service in ("registry", "verification", "outreach")]
    consumer = KafkaConsumer(
        *topics, bootstrap_servers=platform.kafka_bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=3000
    )
    try:
        records = [(list(record.headers), record.value) for record in consumer]
    finally:
        consumer.close()
    return b"".join(record_bytes(*r) for r in records), [Envelope.from_kafka(*r) for r in records]


async def stored_bytes(urls: dict[str, str]) -> tuple[bytes, dict[str, int]]:
    """Every row of every table of each service's database as text, and the data keys each still holds."""
    dump, keys = b"", {}
    for service in SERVICES:
        connection = await asyncpg.connect(urls[service])
        try:
            tables = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            for table in sorted(r["tablename"] for r in tables):
                rows = await connection.fetch(f'SELECT * FROM "{table}"')
                dump += repr([dict(r) for r in rows]).encode()
            keys[service] = await connection.fetchval("SELECT count(*) FROM personal_data_keys")
        finally:
            await connection.close()
    return dump, keys


def assert_no_plaintext(blob: bytes) -> None:
    for secret in SECRETS:
        assert secret.encode() not in blob, f"{secret!r} found in clear"


def test_erased_contacts_and_verifiers_are_unreadable_everywhere_and_the_kpis_stay(platform):
    for service in SERVICES[:-1]:
        platform.start(service)
    platform.start("reporting", {"REPORTING_EVALUATION_DATE": "2025-12-31"})
    headers = {"Authorization": f"Bearer {platform.token('province-admin', subject=SUBJECT)}"}
    registry, verification, outreach = (
        httpx.Client(base_url=platform.url(s), headers=headers, timeout=30) for s in SERVICES[:-1]
    )
    enterprise = created(registry, "/enterprises", ENTERPRISE | CONTACT)
    provider = created(registry, "/providers", PROVIDER)
    created(registry, f"/providers/{provider}/designations", DESIGNATION | {"designated_on": "2024-01-15"})
    verifier_body = {"card_number": "KĐV-83-0012", "full_name": VERIFIER_NAME, "fields": ["mass"]}
    verifier = created(registry, f"/providers/{provider}/verifiers", verifier_body | {"certified_on": "2024-02-01"})
    enrolment = {"enterprise_id": enterprise, "enrolled_on": "2025-02-01", "consent": True} | PARTICIPANT

    def enrolled() -> str | None:
        answer = outreach.post("/participations", json=enrolment)
        return str(answer.json()["id"]) if answer.status_code == 201 else None

    participation = wait_for(enrolled, "outreach's replica of the enterprise")
    assessment = {"assessed_on": "2025-02-15", "assessor": "Chi cục TĐC", "areas": [{"area": "staff", "rating": 2}]}
    assert outreach.post(f"/participations/{participation}/assessment", json=assessment).status_code == 201
    plan = {"approved_on": "2025-03-01", "approved_by": APPROVER, "objectives": [{"objective": "cân đúng hạn"}]}
    assert outreach.post(f"/participations/{participation}/plan", json=plan).status_code == 201
    service = {"kind": "consultation", "enterprise_id": enterprise, "provider_id": provider}
    service |= {"performed_on": "2025-03-10", "description": "Tư vấn đo lường"}
    wait_for(
        lambda: verification.post("/enterprise-services", json=service).status_code == 201, "verification's replica"
    )
    counted = wait_for(lambda: (k := kpis(platform)) == (1.0, 1.0) and k, "the KPIs counted in reporting")

    assert registry.delete(f"/enterprises/{enterprise}/contact").status_code == 200
    assert registry.delete(f"/providers/{provider}/verifiers/{verifier}/personal-data").status_code == 200
    assert outreach.delete(f"/participations/{participation}/contact").status_code == 200
    assert outreach.delete(f"/participations/{participation}/contact").status_code == 409, "erased once"
    assert registry.get(f"/enterprises/{enterprise}").json()["contact_name"] == "erased"
    assert outreach.get(f"/participations/{participation}").json()["contact_name"] == "erased"

    erasures = ("enterprise-contact-erased.v1", "verifier-personal-data-erased.v1", "participation-contact-erased.v1")

    def erasures_published() -> tuple[bytes, list[Envelope]] | None:
        blob, envelopes = topic_bytes(platform)
        return (blob, envelopes) if all(any(e.type.endswith(t) for e in envelopes) for t in erasures) else None

    blob, envelopes = wait_for(erasures_published, "the erasures published")
    sealed = [e.data["contact"] for e in envelopes if e.type.endswith("enterprise-enrolled.v2")]
    assert sealed and sealed[0]["ciphertext"], "the participation's contact travels, as ciphertext only"
    assert {e.actor for e in envelopes if e.source != "/metrology/verification"} != {None}
    assert_no_plaintext(blob)
    for service in SERVICES[1:]:
        platform.wait_caught_up(service)
    dump, keys = asyncio.run(stored_bytes(dict(platform.database_urls)))
    assert_no_plaintext(dump)
    assert (keys["registry"], keys["outreach"]) == (0, 0), "the three people's data keys are destroyed"
    assert kpis(platform) == counted, "erasure changes no count"
