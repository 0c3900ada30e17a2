"""Outreach as a process on real Kafka and PostgreSQL: enrolment from the registry replica, the access saga."""

import time
import uuid
from datetime import date

import httpx
import pytest
from kafka import KafkaConsumer, KafkaProducer

from metrology.eventkit.envelope import CONTENT_TYPE, Envelope, EventContext
from metrology.eventkit.events import DomainEvent
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.registry.domain.events import EnterpriseClosed, EnterpriseRegistered, InstrumentRegistered

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


class WorkRecorded(DomainEvent):
    """The verification service's event as `docs/events.md` lists it."""

    event_type = "vn.metrology.verification.work-recorded"
    job_id: str
    kind: str
    mode: str
    subject: str
    subject_id: str
    type_code: str
    owner_enterprise_id: str | None
    provider_id: str
    provider_province_code: str
    verifier_id: str
    result: str


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what} not reached in time")


class Bus:
    def __init__(self, platform) -> None:
        self.platform = platform
        self.producer = KafkaProducer(bootstrap_servers=platform.kafka_bootstrap, acks="all")
        connection = KafkaConnection(bootstrap_servers=platform.kafka_bootstrap)
        ensure_topics(connection, [TopicSpec(self.topic(s)) for s in ("registry", "verification", "outreach")])

    def topic(self, service: str) -> str:
        return f"{self.platform.prefix}metrology.{service}.v1"

    def envelope(self, service: str, stream: str, event: DomainEvent, version: int = 1) -> Envelope:
        return Envelope.wrap(
            event, source=f"/metrology/{service}", stream_id=stream, stream_version=version, context=EventContext("83")
        )

    def send(self, service: str, envelope: Envelope) -> None:
        headers = [("content-type", CONTENT_TYPE.encode())]
        self.producer.send(
            self.topic(service), value=envelope.to_json(), key=envelope.stream_id.encode(), headers=headers
        )
        self.producer.flush()

    def published(self, service: str, type_suffix: str) -> list[Envelope]:
        consumer = KafkaConsumer(
            self.topic(service),
            bootstrap_servers=self.platform.kafka_bootstrap,
            auto_offset_reset="earliest",
            consumer_timeout_ms=3000,
        )
        try:
            found = [Envelope.from_kafka(record.headers, record.value) for record in consumer]
        finally:
            consumer.close()
        return [e for e in found if e.type.endswith(type_suffix)]


def register_enterprise(bus: Bus, enterprise_id: str, name: str) -> None:
    event = EnterpriseRegistered(
        occurred_on=date(2024, 6, 1),
        enterprise_id=enterprise_id,
        tax_code="0300588569",
        name=name,
        sector="food processing",
        address="Giao Long industrial park",
        province_code="83",
        commune_code="28756",
    )
    bus.send("registry", bus.envelope("registry", f"enterprise-{enterprise_id}", event))


def register_instrument(bus: Bus, instrument_id: str, owner: str) -> None:
    event = InstrumentRegistered(
        occurred_on=date(2024, 7, 1),
        instrument_id=instrument_id,
        type_code="CAN-01",
        serial="SN-1",
        manufacturer="Mettler",
        owner_enterprise_id=owner,
        province_code="83",
        commune_code="28756",
    )
    bus.send("registry", bus.envelope("registry", f"instrument-{instrument_id}", event))


def work_recorded(job_id: str, instrument_id: str, on: str, owner: str | None = None) -> WorkRecorded:
    return WorkRecorded(
        occurred_on=date.fromisoformat(on),
        job_id=job_id,
        kind="verification",
        mode="periodic",
        subject="instrument",
        subject_id=instrument_id,
        type_code="CAN-01",
        owner_enterprise_id=owner,
        provider_id="provider-1",
        provider_province_code="83",
        verifier_id="verifier-1",
        result="pass",
    )


def enrol(api: httpx.Client, enterprise_id: str, on: str = "2025-02-01") -> httpx.Response:
    body = {"enterprise_id": enterprise_id, "enrolled_on": on, "consent": True, "contact_name": "Nguyễn Văn An"}
    return api.post("/participations", json=body)


def accesses(api: httpx.Client, **params) -> dict:
    response = api.get("/accesses", params=params)
    response.raise_for_status()
    return response.json()


def test_a_verification_job_counts_one_access_whatever_the_bus_delivers_and_across_a_restart(platform):
    bus = Bus(platform)
    enterprise, instrument = str(uuid.uuid4()), str(uuid.uuid4())
    register_enterprise(bus, enterprise, "Công ty TNHH Dừa Bến Tre")
    register_instrument(bus, instrument, enterprise)
    outreach = platform.start("outreach")
    api = httpx.Client(base_url=outreach.url, headers={"Authorization": f"Bearer {platform.token('province-admin')}"})
    response = wait_for(lambda: (r := enrol(api, enterprise)).status_code == 201 and r, what="enrolment")
    participation_id = response.json()["id"]

    job = bus.envelope("verification", "job-1", work_recorded("job-1", instrument, "2025-03-10"))
    bus.send("verification", job)
    wait_for(lambda: accesses(api)["total"] == 1, what="the saga's access")
    bus.send("verification", job)  # the same record delivered twice

    outreach.stop()
    resent = bus.envelope("verification", "job-1", work_recorded("job-1", instrument, "2025-03-10"), version=2)
    bus.send("verification", resent)  # re-sent under a new event id while outreach is down
    bus.send("verification", job)
    outreach = platform.start("outreach")

    another = bus.envelope("verification", "job-2", work_recorded("job-2", instrument, "2025-03-11", owner=enterprise))
    bus.send("verification", another)
    platform.wait_caught_up("outreach")  # every delivery above, duplicates included, has been consumed
    page = accesses(api)
    assert page["total"] == 2
    assert sorted(item["source_job_id"] for item in page["items"]) == ["job-1", "job-2"]
    assert page["unique_enterprises"] == 1
    assert page["items"][0]["channel"] == "verification"
    assert page["items"][0]["participation_id"] == participation_id

    wait_for(lambda: outbox_backlog(outreach) == 0, what="the accesses published")
    published = bus.published("outreach", "access-recorded.v1")
    assert sorted(e.data["source_job_id"] for e in published) == ["job-1", "job-2"], "one access event per job"
    assert published[0].causation_id in {job.id, resent.id}, "the access names the event that caused it"
    platform.wait_caught_up("outreach")
    assert accesses(api)["total"] == 2, "still two once everything has settled"


def outbox_backlog(service) -> int:
    return httpx.get(f"{service.url}/ready").json()["checks"]["outbox_backlog"]


def test_jobs_outside_the_enrolment_window_or_for_others_count_nothing(platform):
    bus = Bus(platform)
    enrolled, stranger, instrument = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    register_enterprise(bus, enrolled, "Công ty CP Thủy sản")
    register_enterprise(bus, stranger, "Cơ sở xăng dầu")
    register_instrument(bus, instrument, stranger)
    outreach = platform.start("outreach")
    api = httpx.Client(base_url=outreach.url, headers={"Authorization": f"Bearer {platform.token('province-admin')}"})
    participation_id = wait_for(lambda: (r := enrol(api, enrolled)).status_code == 201 and r).json()["id"]
    withdrawal = api.post(f"/participations/{participation_id}/withdrawal", json={"withdrawn_on": "2025-06-01"})
    assert withdrawal.status_code == 201, withdrawal.text

    bus.send("verification", bus.envelope("verification", "job-a", work_recorded("job-a", "x", "2025-01-31", enrolled)))
    bus.send("verification", bus.envelope("verification", "job-b", work_recorded("job-b", "x", "2025-06-01", enrolled)))
    bus.send("verification", bus.envelope("verification", "job-c", work_recorded("job-c", instrument, "2025-03-01")))
    bus.send("verification", bus.envelope("verification", "job-d", work_recorded("job-d", "x", "2025-05-31", enrolled)))
    platform.wait_caught_up("outreach")
    assert [item["source_job_id"] for item in accesses(api)["items"]] == ["job-d"]


def test_enrolment_needs_an_open_enterprise_known_from_the_registry(platform):
    bus = Bus(platform)
    known, closed = str(uuid.uuid4()), str(uuid.uuid4())
    register_enterprise(bus, known, "Công ty TNHH Kẹo Dừa")
    register_enterprise(bus, closed, "Công ty đã giải thể")
    close = EnterpriseClosed(occurred_on=date(2025, 1, 5), enterprise_id=closed)
    bus.send("registry", bus.envelope("registry", f"enterprise-{closed}", close, version=2))
    outreach = platform.start("outreach")
    admin = httpx.Client(base_url=outreach.url, headers={"Authorization": f"Bearer {platform.token('province-admin')}"})
    wait_for(lambda: enrol(admin, known).status_code == 201, what="the replica")

    unknown = enrol(admin, str(uuid.uuid4()))
    assert unknown.status_code == 422
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["rule"] == "enterprise-unknown"
    assert unknown.json()["errors"][0]["field"] == "enterprise_id"
    wait_for(lambda: enrol(admin, closed).json().get("rule") == "enterprise-closed", what="the closure")
    assert enrol(admin, known).status_code == 409, "one open participation per enterprise"
    assert admin.get("/participations", params={"status": "enrolled"}).json()["total"] == 1

    viewer = httpx.Client(base_url=outreach.url, headers={"Authorization": f"Bearer {platform.token('viewer')}"})
    assert enrol(viewer, known).status_code == 403
    other = platform.token("enterprise", enterprise_id=str(uuid.uuid4()))
    as_other = httpx.Client(base_url=outreach.url, headers={"Authorization": f"Bearer {other}"})
    assert as_other.get("/participations").json()["total"] == 0
    assert as_other.get("/accesses", params={"enterprise_id": known}).status_code == 403
    own = platform.token("enterprise", enterprise_id=known)
    as_owner = httpx.Client(base_url=outreach.url, headers={"Authorization": f"Bearer {own}"})
    assert as_owner.get("/participations").json()["total"] == 1
