"""Services to any enterprise, followed from verification through outreach's saga to reporting's T4.

Each service runs in process on its own database; records pass between them as the relay would publish them
(CloudEvents binary mode, read back by each projector): verification records the services, outreach's saga
decides which count as accesses, reporting folds both the services and the accesses. A service to an enterprise
outside the programme is recorded and not counted; a member's is counted once, however it arrives.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import httpx
import pytest

from metrology.eventkit.envelope import Envelope, EventContext
from metrology.eventkit.projector import ProjectorRunner
from metrology.eventkit.store import EventStore, Position
from metrology.outreach.bootstrap import bootstrap as outreach_bootstrap
from metrology.registry.domain import events as r
from metrology.reporting.bootstrap import bootstrap as reporting_bootstrap
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.runtime import ServiceRuntime
from metrology.servicekit.settings import ServiceSettings
from metrology.verification.bootstrap import bootstrap as verification_bootstrap
from metrology.verification.settings import VerificationSettings

pytestmark = [pytest.mark.integration]

MEMBER, OUTSIDER = "ent-member", "ent-outsider"
CENTRE = "prov-centre"


@dataclass
class Record:
    value: bytes | None
    key: bytes | None
    headers: list[tuple[str, bytes]]
    topic: str = "t"
    partition: int = 0
    offset: int = 0


@dataclass
class Letters:
    letters: list[object] = field(default_factory=list)

    async def send(self, letters: list[object]) -> None:
        self.letters += letters


def registry_records() -> list[Record]:
    def registered(enterprise_id: str, tax_code: str, name: str) -> r.DomainEvent:
        return r.EnterpriseRegistered(
            occurred_on=date(2022, 3, 1), enterprise_id=enterprise_id, tax_code=tax_code, name=name,
            sector="food", address="Phường An Hội", province_code="83", commune_code="28756",
        )  # fmt: skip

    events: list[tuple[str, r.DomainEvent]] = [
        (f"enterprise-{MEMBER}", registered(MEMBER, "1300123456", "Công ty Dừa Bến Tre")),
        (f"enterprise-{OUTSIDER}", registered(OUTSIDER, "1300654321", "Cơ sở Kẹo Dừa Mỏ Cày")),
        (f"provider-{CENTRE}", r.ProviderRegistered(
            occurred_on=date(2023, 1, 5), provider_id=CENTRE, name="Trung tâm Kỹ thuật TĐC Bến Tre",
            ownership="state", province_code="83", commune_code="28756", fields=["mass"],
            registration_certificate_number="ĐK-001", registration_certificate_date=date(2023, 1, 5))),
    ]  # fmt: skip
    envelopes = [
        Envelope.wrap(e, source="/metrology/registry", stream_id=s, stream_version=1, context=EventContext("83"))
        for s, e in events
    ]
    return [Record(*_binary(envelope)) for envelope in envelopes]


def _binary(envelope: Envelope) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    key, value, headers = envelope.to_kafka()
    return value, key, list(headers)


async def published(runtime: ServiceRuntime) -> list[Record]:
    """What the service's relay would publish: every committed event, in order, as Kafka records."""
    async with runtime.engine.connect() as connection:
        recorded = await EventStore(runtime.store.source).read_all(connection, Position(), 10_000)
    records = []
    for event in recorded:
        key, value, headers = event.kafka_record()
        records.append(Record(value, key, list(headers)))
    return records


async def fold(runtime: ServiceRuntime, name: str, records: Sequence[Record]) -> None:
    projection = next(s.projection for s in runtime.subscriptions if s.projection.name == name)
    letters = Letters()
    await ProjectorRunner(runtime.sessions, projection, letters).handle(list(records))
    assert letters.letters == [], f"{name} dead-lettered records"


@dataclass
class Node:
    runtime: ServiceRuntime
    http: httpx.AsyncClient

    def token(self, *roles: str) -> dict[str, str]:
        token = issue_dev_token(self.runtime.settings.auth_jwt_secret, "tester", roles, "83")
        return {"Authorization": f"Bearer {token}"}


async def node(runtime: ServiceRuntime, stack: list[Node]) -> Node:
    await runtime.migrate()
    transport = httpx.ASGITransport(app=create_app(runtime))
    created = Node(runtime, httpx.AsyncClient(transport=transport, base_url="http://service"))
    stack.append(created)
    return created


@pytest.fixture
async def nodes(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Node, Node, Node]]:
    def sqlite(name: str) -> str:
        return f"sqlite+aiosqlite:///{tmp_path / name}.db"

    stack: list[Node] = []
    verification = await node(
        verification_bootstrap(
            VerificationSettings.from_env("verification", database_url=sqlite("verification"), tenant="83")
        ),
        stack,
    )
    outreach = await node(
        outreach_bootstrap(ServiceSettings.from_env("outreach", database_url=sqlite("outreach"), tenant="83")),
        stack,
    )
    reporting = await node(
        reporting_bootstrap(
            ReportingSettings(service_name="reporting", database_url=database_url, evaluation_date=date(2025, 12, 31)),
            evaluate=False,
        ),
        stack,
    )
    yield verification, outreach, reporting
    for each in stack:
        await each.http.aclose()
        await each.runtime.dispose()


async def record(verification: Node, enterprise_id: str, kind: str, on: str) -> str:
    body = {
        "kind": kind,
        "enterprise_id": enterprise_id,
        "provider_id": CENTRE,
        "performed_on": on,
        "description": "Tư vấn phương pháp đo khối lượng tịnh hàng đóng gói sẵn",
    }
    answer = await verification.http.post(
        "/enterprise-services", json=body, headers=verification.token("province-admin")
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["service_id"])


async def test_a_non_members_service_is_recorded_not_counted_and_a_members_counts_once(nodes):
    verification, outreach, reporting = nodes
    registry = registry_records()
    await fold(verification.runtime, "verification.registry-replica", registry)
    await fold(outreach.runtime, "outreach.registry-replica", registry)
    enrolled = await outreach.http.post(
        "/participations",
        json={"enterprise_id": MEMBER, "enrolled_on": "2025-02-01", "consent": True, "contact_name": "Nguyễn Văn An"},
        headers=outreach.token("province-admin"),
    )
    assert enrolled.status_code == 201, enrolled.text

    members = await record(verification, MEMBER, "measurement-method", "2025-03-10")
    await record(verification, MEMBER, "consultation", "2025-01-20")  # before the enrolment: not the programme's
    await record(verification, OUTSIDER, "calibration", "2025-03-11")
    services = await published(verification.runtime)
    await fold(outreach.runtime, "outreach.access-saga", services)
    await fold(outreach.runtime, "outreach.access-saga", services)  # the same records delivered again

    accesses = (await outreach.http.get("/accesses", headers=outreach.token("viewer"))).json()
    assert [(a["source_job_id"], a["channel"]) for a in accesses["items"]] == [(members, "method")]
    listed = await verification.http.get("/enterprise-services", headers=verification.token("viewer"))
    assert listed.json()["total"] == 3, "every service is recorded, counted or not"

    outreach_events = await published(outreach.runtime)
    for batch in (registry, services, outreach_events, outreach_events + services):
        await fold(reporting.runtime, "reporting.kpis", batch)
    t4 = (await reporting.http.get("/kpis/enterprise-times", params={"as_of": "2025-12-31"})).json()
    assert t4["value"] == 1, "the member's service once, though seen as the service and as its access"
    assert t4["details"]["unique_enterprises"] == 1
    assert t4["details"]["channels"] == {"method": 1}
