"""Real verification events written through the kit and published by its relay, for readers outside the platform.

A scenario of jobs per provider is appended to a fresh PostgreSQL event store; `publish` runs the outbox relay into
a topic of its own. The published JSON Schemas are the committed `contracts/`; the Java example is built once per
session by Maven.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from sqlalchemy.ext.asyncio import AsyncEngine

from metrology.eventkit import EventContext, EventStore, Position
from metrology.eventkit.database import create_engine, create_schema, session_factory
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import DomainEvent
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.relay import KafkaEventPublisher, OutboxRelay
from metrology.eventkit.store import metadata
from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.testkit import infra
from metrology.testkit.infra import REPO
from metrology.verification.domain.events import (
    CertificateIssued,
    CertificateRevoked,
    InstrumentMarkedUnfit,
    WorkRecorded,
)

SOURCE = "/metrology/verification"
JAVA_EXAMPLE = REPO / "examples" / "java-consumer"
PYTHON_EXAMPLE = REPO / "examples" / "python-consumer"


@dataclass
class Scenario:
    """What was written, and what a reader counting certificates per provider must end up with."""

    events: int = 0
    issued: Counter[str] = field(default_factory=Counter)
    revoked: Counter[str] = field(default_factory=Counter)


@dataclass
class VerificationLog:
    """A verification event store and the topic its relay publishes to."""

    engine: AsyncEngine
    kafka: KafkaConnection
    topic: str
    store: EventStore = field(default_factory=lambda: EventStore(SOURCE))
    scenario: Scenario = field(default_factory=Scenario)

    async def record_jobs(
        self, provider: str, jobs: int, *, revoke: int = 0, fail: int = 0, traced: bool = True
    ) -> None:
        """`jobs` passed jobs with a certificate each (the first `revoke` later revoked), then `fail` failed ones."""
        for index in range(jobs + fail):
            passed = index < jobs
            job_id = uuid.uuid4().hex[:12]
            events = job_events(job_id, provider, passed=passed, revoked=passed and index < revoke)
            context = EventContext(
                tenant="86" if index % 2 else "83",
                causation_id=str(uuid.uuid4()) if index % 3 == 0 else None,
                traceparent=f"00-{uuid.uuid4().hex}-{uuid.uuid4().hex[:16]}-01" if traced and index % 2 == 0 else None,
                actor="verifier-1" if index % 4 != 3 else None,
            )
            async with session_factory(self.engine).begin() as session:
                await self.store.append(session, f"job-{job_id}", 0, events, context)
            self.scenario.events += len(events)
            self.scenario.issued[provider] += passed
            self.scenario.revoked[provider] += passed and index < revoke

    async def publish(self, relay_name: str = "kafka") -> int:
        """Run the kit's relay until every committed event is on the topic; returns how many it sent."""
        await self._wait_until_readable(self.scenario.events)
        publisher = KafkaEventPublisher(self.kafka)
        await publisher.start()
        try:
            return await OutboxRelay(self.engine, self.store, publisher, self.topic, name=relay_name).publish_pending()
        finally:
            await publisher.stop()

    async def stored(self) -> dict[str, Envelope]:
        """Every event the store holds, by id."""
        async with self.engine.connect() as connection:
            recorded = await self.store.read_all(connection, Position(), 100_000)
        return {envelope.id: envelope for envelope in (r.envelope() for r in recorded)}

    async def records(self, expected: int, within: float = 30.0) -> list[ConsumerRecord]:
        """Every record of the topic, read without a consumer group, once `expected` have arrived."""
        consumer = AIOKafkaConsumer(
            self.topic, **self.kafka.aiokafka_options(), auto_offset_reset="earliest", group_id=None
        )
        await consumer.start()
        records: list[ConsumerRecord] = []
        try:
            deadline = time.monotonic() + within
            while len(records) < expected and time.monotonic() < deadline:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records.extend(batch)
            return records
        finally:
            await consumer.stop()

    async def send_raw(self, key: bytes | None, value: bytes, headers: Sequence[tuple[str, bytes]]) -> None:
        """Put a hand-made record on the topic (what a faulty producer might write)."""
        producer = AIOKafkaProducer(**self.kafka.aiokafka_options())
        await producer.start()
        try:
            await producer.send_and_wait(self.topic, value=value, key=key, headers=list(headers))
        finally:
            await producer.stop()

    async def _wait_until_readable(self, expected: int, within: float = 30.0) -> None:
        """Others' open transactions on the shared server can hold the gap-safe reader back for a moment."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            async with self.engine.connect() as connection:
                if len(await self.store.read_all(connection, Position(), expected)) >= expected:
                    return
            await asyncio.sleep(0.1)


def job_events(job_id: str, provider: str, *, passed: bool, revoked: bool) -> list[DomainEvent]:
    performed = date(2025, 3, 1)
    subject_id = uuid.uuid4().hex[:12]
    events: list[DomainEvent] = [
        WorkRecorded(
            occurred_on=performed,
            job_id=job_id,
            kind="verification",
            mode="periodic",
            subject="instrument",
            subject_id=subject_id,
            type_code="2.1",
            provider_id=provider,
            provider_province_code="86",
            verifier_id="verifier-1",
            procedure="ĐLVN 17:2017",
            result="pass" if passed else "fail",
        )
    ]
    if passed:
        number = f"GCN-{job_id}"
        events.append(
            CertificateIssued(
                occurred_on=performed,
                certificate_number=number,
                job_id=job_id,
                kind="verification",
                subject_id=subject_id,
                valid_until=date(2026, 3, 1),
                sticker_serial=f"TEM-{job_id}",
                qr_payload=f"https://verify.example/{number}",
            )
        )
    else:
        events.append(
            InstrumentMarkedUnfit(occurred_on=performed, job_id=job_id, subject_id=subject_id, record_number=job_id)
        )
    if revoked:
        events.append(
            CertificateRevoked(
                occurred_on=date(2025, 4, 1),
                certificate_number=f"GCN-{job_id}",
                job_id=job_id,
                subject_id=subject_id,
                reason="sticker damaged",
            )
        )
    return events


@pytest.fixture
async def verification_log(kafka: KafkaConnection, postgres_url: str) -> AsyncIterator[VerificationLog]:
    topic = f"{infra.topic_prefix('wire')}metrology.verification.v1"
    ensure_topics(kafka, [TopicSpec(topic, partitions=3)])
    engine = create_engine(postgres_url)
    await create_schema(engine, metadata)
    yield VerificationLog(engine, kafka, topic)
    await engine.dispose()


@pytest.fixture(scope="session")
def published_schemas() -> Path:
    """The committed contracts: one JSON Schema per event type and version, as integrators get them."""
    directory = REPO / "contracts"
    assert (directory / "verification" / "certificate-issued.v1.json").is_file()
    return directory


@pytest.fixture(scope="session")
def java_consumer() -> Callable[..., subprocess.CompletedProcess[str]]:
    """The Java example, built by Maven once per session; call it with its arguments."""
    built = subprocess.run(
        ["mvn", "-B", "-q", "-f", str(JAVA_EXAMPLE / "pom.xml"), "package"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert built.returncode == 0, f"Maven build of the Java example failed:\n{built.stdout}\n{built.stderr}"
    jar = JAVA_EXAMPLE / "target" / "certificate-consumer.jar"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(["java", "-jar", str(jar), *args], capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, f"java consumer failed:\n{result.stdout}\n{result.stderr}"
        return result

    return run
