"""Inspection findings feed the registry and reporting over the real broker: the registry and certificate events
fill inspection's replica, an inspector records an overdue and an unregistered instrument over HTTP, inspection's
relay publishes, the registry's consumer lists a pending registration request and reporting's consumer counts the
overdue instrument in demand coverage's `inspection` breakdown."""

from __future__ import annotations

import asyncio
import importlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.topics import event_topic
from metrology.inspection.application.replica import registration_by_id
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.runtime import ServiceRuntime
from metrology.servicekit.settings import ServiceSettings
from metrology.servicekit.workers import Workers
from metrology.testkit import infra

pytestmark = [pytest.mark.integration]
LAPSED = "inst-cd-lapsed"


def envelope(service: str, fact: str, stream: str, data: dict[str, Any]) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()), type=f"vn.metrology.{service}.{fact}.v1", source=f"/metrology/{service}",
        time=datetime.now(UTC), stream_id=stream, stream_version=1, tenant="83", correlation_id=str(uuid.uuid4()),
        data=data,
    )  # fmt: skip


WORLD = [
    envelope("registry", "instrument-registered", f"instrument-{LAPSED}", {
        "occurred_on": "2024-01-10", "instrument_id": LAPSED, "type_code": "2.19", "serial": "CD-0002",
        "manufacturer": "Tatsuno", "owner_enterprise_id": "ent-1", "province_code": "83", "commune_code": "28756",
    }),
    envelope("verification", "certificate-issued", "job-j1", {
        "occurred_on": "2025-03-01", "certificate_number": "KĐ-1", "job_id": "j1", "kind": "verification",
        "subject_id": LAPSED, "valid_until": "2026-03-01", "sticker_serial": "T-1", "qr_payload": "KĐ-1",
    }),
]  # fmt: skip


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 90) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"{what} did not happen within {within} s")


class Running:
    """Services in this process on their own databases, one topic prefix, with their workers."""

    def __init__(self, kafka: KafkaConnection, admin_url: str) -> None:
        self.kafka, self.admin_url, self.prefix = kafka, admin_url, infra.topic_prefix("it")
        self.runtimes: dict[str, ServiceRuntime] = {}
        self.urls: list[str] = []
        self.stop = asyncio.Event()
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self, service: str, relay: bool) -> ServiceRuntime:
        url = await infra.create_database(self.admin_url, prefix=service)
        self.urls.append(url)
        bootstrap = importlib.import_module(f"metrology.{service}.bootstrap").bootstrap
        settings = ServiceSettings.from_env(
            service, database_url=url, kafka_topic_prefix=self.prefix,
            kafka_bootstrap_servers=self.kafka.bootstrap_servers, tenant="83",
        )  # fmt: skip
        runtime: ServiceRuntime = bootstrap(settings)
        await runtime.migrate()
        self.runtimes[service] = runtime
        self.tasks.append(asyncio.create_task(Workers(runtime, relay=relay, consumers=True).run(self.stop)))
        return runtime

    def client(self, service: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=create_app(self.runtimes[service]))
        return httpx.AsyncClient(transport=transport, base_url=f"http://{service}")

    def token(self, service: str, role: str) -> dict[str, str]:
        secret = self.runtimes[service].settings.auth_jwt_secret
        return {"Authorization": f"Bearer {issue_dev_token(secret, 'tester', [role], '83')}"}

    async def produce(self, envelopes: list[Envelope]) -> None:
        producer = AIOKafkaProducer(**self.kafka.aiokafka_options(), acks="all", enable_idempotence=True)
        await producer.start()
        try:
            for e in envelopes:
                key, value, headers = e.to_kafka()
                topic = self.prefix + event_topic(e.source.rsplit("/", 1)[1])
                await producer.send_and_wait(topic, value=value, key=key, headers=headers)
        finally:
            await producer.stop()

    async def close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), 60)
        for runtime in self.runtimes.values():
            await runtime.dispose()
        for url in self.urls:
            await infra.drop_database(self.admin_url, url)


@pytest.fixture
async def running(kafka: KafkaConnection, postgres_admin_url: str) -> AsyncIterator[Running]:
    services = Running(kafka, postgres_admin_url)
    try:
        yield services
    finally:
        await services.close()


async def test_an_inspection_feeds_the_registry_and_reporting_through_kafka(running: Running):
    inspection = await running.start("inspection", relay=True)
    await running.start("registry", relay=False)
    await running.start("reporting", relay=False)
    await running.produce(WORLD)

    async with running.client("inspection") as client:
        admin = running.token("inspection", "province-admin")

        async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
            response = await client.post(path, json=body, headers=admin)
            assert response.status_code == 201, response.text
            return dict(response.json())

        async def replica_knows_the_certificate() -> bool:
            async with inspection.sessions() as session:
                known = await registration_by_id(session, "83", LAPSED, date(2026, 4, 14))
            return known is not None and known.verified

        await eventually(replica_knows_the_certificate, "inspection's replica catching up")
        plan = await post("/plans", {"year": 2026, "title": "Kế hoạch 2026", "decision_number": "1/QĐ",
                                     "approved_by": "Sở KH&CN", "approved_on": "2026-01-15"})  # fmt: skip
        campaign = await post("/campaigns", {
            "plan_id": plan["id"], "title": "Cột đo xăng dầu", "decision_number": "2/QĐ",
            "venue_kinds": ["fuel-station"], "instrument_types": ["2.19"], "starts_on": "2026-04-01",
            "ends_on": "2026-06-30",
        })  # fmt: skip
        visit = await post("/visits", {
            "campaign_id": campaign["id"], "record_number": "BB-1", "venue_kind": "fuel-station",
            "venue_name": "Cửa hàng xăng dầu số 5", "enterprise_id": "ent-1", "commune_code": "28756",
            "inspectors": ["Nguyễn Văn A"], "visited_on": "2026-04-14",
        })  # fmt: skip
        overdue = await post(f"/visits/{visit['id']}/findings", {"instrument_id": LAPSED})
        unknown = await post(f"/visits/{visit['id']}/findings", {"type_code": "2.19", "serial": "CD-7777"})
    assert overdue["events"][1]["type"].endswith("overdue-instrument-found.v1")
    assert unknown["events"][1]["type"].endswith("instrument-found-unregistered.v1")

    async with running.client("registry") as registry, running.client("reporting") as reporting:
        viewer = running.token("registry", "viewer")
        requests: list[dict[str, Any]] = []

        async def registry_lists_the_request() -> bool:
            response = await registry.get("/registration-requests", headers=viewer)
            requests[:] = response.json()["items"]
            return bool(requests)

        line: dict[str, int] = {}

        async def reporting_counts_it() -> bool:
            params = {"as_of": "2026-04-30", "from": "2026-01-01"}
            reading = (await reporting.get("/kpis/demand-coverage", params=params)).json()
            line.update({row["key"]: row["value"] for row in reading["breakdowns"]["inspection"]})
            return line.get("found-overdue") == 1

        await eventually(registry_lists_the_request, "the registry's registration request")
        await eventually(reporting_counts_it, "reporting's inspection breakdown")
    assert [(r["serial"], r["status"], r["found_on"]) for r in requests] == [("CD-7777", "pending", "2026-04-14")]
    assert line == {"found-overdue": 1, "found-overdue-not-met": 1}, "due 2026-03-01, not verified since"
