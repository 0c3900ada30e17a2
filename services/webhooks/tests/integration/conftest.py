"""The bridge on real Kafka and PostgreSQL, a receiver on 127.0.0.1 that checks every signature, and a producer
writing the platform's events as the relays do (CloudEvents binary mode)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.topics import TopicSpec, ensure_topics, event_topic
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.runtime import ServiceRuntime
from metrology.servicekit.workers import Workers
from metrology.testkit import infra
from metrology.webhooks.bootstrap import bootstrap
from metrology.webhooks.domain.catalogue import SOURCES
from metrology.webhooks.settings import WebhooksSettings

COMPLETED = "vn.metrology.training.trainee-completed.v1"
SCHEDULED = "vn.metrology.training.course-scheduled.v1"


async def eventually(check: Callable[[], Any], within: float = 40, what: str = "the condition") -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        result = check()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what} did not happen within {within} s")


@dataclass
class Delivery:
    message_id: str
    event: dict[str, Any]
    status: int
    content_type: str


@dataclass
class Receiver:
    """An HTTP receiver in a thread: verifies each signature with the Standard Webhooks reference library, and
    answers what `answer(event)` says (200 by default)."""

    port: int = 0
    secret: str | None = None
    answer: Callable[[dict[str, Any]], int] = lambda event: 200
    attempts: list[Delivery] = field(default_factory=list)
    bad_signatures: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if not self.port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/metrology"

    @property
    def accepted(self) -> list[Delivery]:
        with self._lock:
            return [d for d in self.attempts if 200 <= d.status < 300]

    def accepted_ids(self) -> list[str]:
        return [d.event["id"] for d in self.accepted]

    def up(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                try:
                    Webhook(receiver.secret or "").verify(body, dict(self.headers.items()))
                except (WebhookVerificationError, ValueError):
                    with receiver._lock:
                        receiver.bad_signatures += 1
                    self._reply(400)
                    return
                event = json.loads(body)
                status = receiver.answer(event)
                with receiver._lock:
                    receiver.attempts.append(
                        Delivery(self.headers["webhook-id"], event, status, self.headers["content-type"])
                    )
                self._reply(status)

            def _reply(self, status: int) -> None:
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receivers() -> Any:
    started: list[Receiver] = []

    def new(up: bool = True) -> Receiver:
        receiver = Receiver()
        started.append(receiver.up() if up else receiver)
        return receiver

    yield new
    for receiver in started:
        receiver.down()


class Producer:
    """Writes events to the platform's topics as the relays do: keyed by stream, CloudEvents binary mode."""

    def __init__(self, kafka: KafkaConnection, prefix: str) -> None:
        self.prefix = prefix
        self._producer = AIOKafkaProducer(**kafka.aiokafka_options(), acks="all", enable_idempotence=True)
        self.versions: dict[str, int] = {}

    async def send(self, stream_id: str, type_: str = COMPLETED, tenant: str = "83", service: str = "training") -> str:
        version = self.versions[stream_id] = self.versions.get(stream_id, 0) + 1
        envelope = Envelope(
            id=str(uuid.uuid4()),
            type=type_,
            source=f"/metrology/{service}",
            time=datetime.now(UTC),
            subject=stream_id,
            stream_id=stream_id,
            stream_version=version,
            tenant=tenant,
            correlation_id=str(uuid.uuid4()),
            data={"occurred_on": "2025-06-01", "course_id": stream_id, "trainee_id": f"t-{version}", "passed": True},
        )
        key, value, headers = envelope.to_kafka()
        await self._producer.send_and_wait(self.prefix + event_topic(service), value=value, key=key, headers=headers)
        return envelope.id


@dataclass
class Bridge:
    settings: WebhooksSettings
    runtime: ServiceRuntime
    http: httpx.AsyncClient
    producer: Producer
    worker: asyncio.Task[None] | None = None
    _stop: asyncio.Event | None = None

    def token(self, *roles: str, tenant: str = "83") -> dict[str, str]:
        token = issue_dev_token(self.settings.auth_jwt_secret, "admin-83", roles or ("province-admin",), tenant)
        return {"Authorization": f"Bearer {token}"}

    async def subscribe(self, receiver: Receiver, types: list[str] | None = None, **extra: Any) -> str:
        body = {"target_url": receiver.url, "event_types": types or [COMPLETED], **extra}
        response = await self.http.post("/subscriptions", json=body, headers=self.token())
        assert response.status_code == 201, response.text
        receiver.secret = response.json()["secret"]
        return str(response.json()["id"])

    async def subscription(self, subscription_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/subscriptions/{subscription_id}", headers=self.token())
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def dead_letters(self, subscription_id: str, **params: str) -> list[dict[str, Any]]:
        response = await self.http.get(
            f"/subscriptions/{subscription_id}/dead-letters", params=params, headers=self.token()
        )
        assert response.status_code == 200, response.text
        return list(response.json()["items"])

    async def start_worker(self) -> None:
        """The worker as `metrology-webhooks consume` runs it (a new runtime: nothing kept in memory)."""
        runtime = bootstrap(self.settings)
        self._stop = asyncio.Event()
        self.worker = asyncio.create_task(Workers(runtime, relay=False, consumers=True).run(self._stop))
        self._worker_runtime = runtime

    async def stop_worker(self) -> None:
        if self.worker and self._stop:
            self._stop.set()
            await asyncio.wait_for(self.worker, 30)
            await self._worker_runtime.dispose()
            self.worker = None


@pytest.fixture
async def bridge(kafka: KafkaConnection, postgres_url: str) -> AsyncIterator[Bridge]:
    prefix = infra.topic_prefix("wh")
    settings = WebhooksSettings.from_env(
        "webhooks",
        database_url=postgres_url,
        kafka_topic_prefix=prefix,
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        tenant="83",
        retry_max_attempts=60,
        retry_base_seconds=0.05,
        retry_cap_seconds=0.4,
        subscription_poll_seconds=0.2,
        delivery_timeout_seconds=3,
    )
    runtime = bootstrap(settings)
    await runtime.migrate()
    specs = [TopicSpec(prefix + event_topic(service), 3) for service in SOURCES]
    await asyncio.to_thread(ensure_topics, kafka, specs)
    producer = Producer(kafka, prefix)
    await producer._producer.start()
    app = create_app(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://webhooks") as client:
        bridge = Bridge(settings, runtime, client, producer)
        try:
            yield bridge
        finally:
            await bridge.stop_worker()
            await producer._producer.stop()
    await runtime.dispose()
