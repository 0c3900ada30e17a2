"""Services to any enterprise on real Kafka, with verification, outreach and reporting as processes: a
non-member's service is recorded and not counted in T4; a member's is counted once, though reporting reads it
both as verification's service and as the access outreach's saga recorded for it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from kafka import KafkaProducer

from metrology.eventkit.envelope import Envelope, EventContext
from metrology.eventkit.events import DomainEvent
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.registry.domain import events as r

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MEMBER, OUTSIDER, CENTRE = "ent-e2e-member", "ent-e2e-outsider", "prov-e2e-centre"


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"{what} not reached in time")


def publish_registry(platform) -> None:
    topics = [f"{platform.prefix}metrology.{s}.v1" for s in ("registry", "verification", "outreach", "training")]
    ensure_topics(KafkaConnection(bootstrap_servers=platform.kafka_bootstrap), [TopicSpec(t) for t in topics])

    def enterprise(enterprise_id: str, tax_code: str, name: str) -> DomainEvent:
        return r.EnterpriseRegistered(
            occurred_on=date(2022, 3, 1), enterprise_id=enterprise_id, tax_code=tax_code, name=name,
            sector="food", address="Phường An Hội", province_code="83", commune_code="28756",
        )  # fmt: skip

    events = [
        (f"enterprise-{MEMBER}", enterprise(MEMBER, "1300123456", "Công ty Dừa Bến Tre")),
        (f"enterprise-{OUTSIDER}", enterprise(OUTSIDER, "1300654321", "Cơ sở Kẹo Dừa Mỏ Cày")),
        (f"provider-{CENTRE}", r.ProviderRegistered(
            occurred_on=date(2023, 1, 5), provider_id=CENTRE, name="Trung tâm Kỹ thuật TĐC Bến Tre",
            ownership="state", province_code="83", commune_code="28756", fields=["mass"],
            registration_certificate_number="ĐK-001", registration_certificate_date=date(2023, 1, 5))),
    ]  # fmt: skip
    producer = KafkaProducer(bootstrap_servers=platform.kafka_bootstrap, acks="all")
    try:
        for stream, event in events:
            envelope = Envelope.wrap(
                event, source="/metrology/registry", stream_id=stream, stream_version=1, context=EventContext("83")
            )
            key, value, headers = envelope.to_kafka()
            producer.send(f"{platform.prefix}metrology.registry.v1", value=value, key=key, headers=list(headers))
        producer.flush()
    finally:
        producer.close()


def client(platform, service: str, *roles: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {platform.token(*roles)}"}
    return httpx.Client(base_url=platform.url(service), headers=headers, timeout=30)


def service_body(enterprise_id: str, kind: str, on: str) -> dict[str, str]:
    return {
        "kind": kind,
        "enterprise_id": enterprise_id,
        "provider_id": CENTRE,
        "performed_on": on,
        "description": "Tư vấn phương pháp đo khối lượng tịnh hàng đóng gói sẵn",
    }


def test_a_non_members_service_is_not_counted_and_a_members_counts_once_on_kafka(platform):
    publish_registry(platform)
    platform.start("verification")
    platform.start("outreach")
    platform.start("reporting", {"REPORTING_EVALUATION_DATE": "2025-12-31"})
    outreach = client(platform, "outreach", "province-admin")
    verification = client(platform, "verification", "province-admin")
    enrolment = {"enterprise_id": MEMBER, "enrolled_on": "2025-02-01", "consent": True, "contact_name": "Nguyễn An"}
    wait_for(lambda: outreach.post("/participations", json=enrolment).status_code == 201, "the enrolment")

    def record(body: dict[str, str]) -> bool:
        return verification.post("/enterprise-services", json=body).status_code == 201

    wait_for(lambda: record(service_body(MEMBER, "measurement-method", "2025-03-10")), "the replica of the registry")
    assert record(service_body(OUTSIDER, "calibration", "2025-03-11"))

    wait_for(lambda: outreach.get("/accesses").json()["total"] >= 1, "the saga's access")
    platform.wait_caught_up("outreach")
    accesses = outreach.get("/accesses").json()
    assert [(a["enterprise_id"], a["channel"]) for a in accesses["items"]] == [(MEMBER, "method")]

    def t4() -> dict[str, Any]:
        answer = httpx.get(f"{platform.url('reporting')}/kpis/enterprise-times", params={"as_of": "2025-12-31"})
        return dict(answer.json())

    wait_for(lambda: t4()["value"] >= 1, "T4 in reporting")
    platform.wait_caught_up("outreach")
    platform.wait_caught_up("reporting")
    reached = t4()
    assert reached["value"] == 1, "the member's service once; the non-member's not at all"
    assert reached["details"]["channels"] == {"method": 1}
    assert verification.get("/enterprise-services").json()["total"] == 2, "both services are recorded"
