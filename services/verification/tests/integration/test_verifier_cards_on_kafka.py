"""verifier-certified v1 events already on the registry topic, read by the replica through the v1 -> v2 upcaster.

The registry's older release wrote v1 (no card validity); the current one writes v2. Both kinds are relayed to a
real topic; the replica reads v1 with no end date on record (the verifier may still sign), and honours a v2
card's end date (a job after it is refused, naming the rule).
"""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import pytest
import sqlalchemy as sa

from metrology.eventkit.database import create_engine, create_schema, session_factory
from metrology.eventkit.envelope import EventContext
from metrology.eventkit.events import DomainEvent
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.relay import KafkaEventPublisher, OutboxRelay
from metrology.eventkit.store import EventStore, metadata
from metrology.eventkit.topics import ensure_topics, event_topic
from metrology.registry.domain import events as r
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.workers import Workers
from metrology.testkit import infra
from metrology.testkit.lag import wait_until_caught_up
from metrology.verification.adapters.tables import replica_verifiers
from metrology.verification.bootstrap import bootstrap
from metrology.verification.settings import VerificationSettings

from .test_http_write_path import JOB
from .world import CENTRE, VERIFIER, registry_events

pytestmark = [pytest.mark.integration]

EXPIRED = "ver-expired"


class VerifierCertifiedV1(DomainEvent):
    """verifier-certified as the registry wrote it before v2 (contracts/registry/verifier-certified.v1.json)."""

    event_type = "vn.metrology.registry.verifier-certified"
    event_version = 1
    provider_id: str
    verifier_id: str
    card_number: str
    full_name: str
    fields: list[str]


def world_with_a_v1_and_an_expired_v2_card() -> list[tuple[str, DomainEvent]]:
    pairs: list[tuple[str, DomainEvent]] = []
    for stream, event in registry_events():
        if isinstance(event, r.VerifierCertified) and event.verifier_id == VERIFIER:
            event = VerifierCertifiedV1(**event.model_dump(exclude={"card_valid_until", "personal"}), full_name="A")
        pairs.append((stream, event))
    expired = r.VerifierCertified(
        occurred_on=date(2020, 3, 1), provider_id=CENTRE, verifier_id=EXPIRED, card_number="KĐV-83-002",
        personal=None, fields=["mass"], card_valid_until=date(2024, 12, 31),
    )  # fmt: skip
    return [*pairs, (f"provider-{CENTRE}", expired)]


async def until(check, what: str) -> None:
    for _ in range(150):
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} within 30 s")


async def test_v1_certifications_on_the_topic_are_upcast_and_v2_card_validity_is_honoured(
    kafka: KafkaConnection, postgres_url: str, postgres_admin_url: str
):
    prefix = infra.topic_prefix("it")
    registry_url = await infra.create_database(postgres_admin_url, prefix="registry")
    registry_engine = create_engine(registry_url)
    await create_schema(registry_engine, metadata)
    store = EventStore(source="/metrology/registry")
    pairs = world_with_a_v1_and_an_expired_v2_card()
    async with session_factory(registry_engine).begin() as session:
        for stream, event in pairs:
            await store.append(session, stream, None, [event], EventContext(tenant="83"))

    settings = VerificationSettings.from_env(
        "verification",
        database_url=postgres_url,
        kafka_topic_prefix=prefix,
        kafka_bootstrap_servers=kafka.bootstrap_servers,
    )
    runtime = bootstrap(settings)
    await runtime.migrate()
    stop = asyncio.Event()
    workers = asyncio.create_task(Workers(runtime, relay=False, consumers=True).run(stop))
    publisher = KafkaEventPublisher(kafka)
    await publisher.start()
    relay = OutboxRelay(registry_engine, store, publisher, prefix + event_topic("registry"))
    try:
        await asyncio.to_thread(ensure_topics, kafka, runtime.topic_specs())
        published = 0

        async def all_published() -> bool:
            nonlocal published
            published += await relay.publish_pending()
            return published == len(pairs)

        await until(all_published, "the registry events were not relayed")
        relayed = await _types_in(registry_engine, store, f"provider-{CENTRE}")
        assert {"vn.metrology.registry.verifier-certified.v1", "vn.metrology.registry.verifier-certified.v3"} <= relayed

        async def replica_has_both() -> bool:
            async with runtime.engine.connect() as connection:
                rows = await connection.execute(sa.select(replica_verifiers.c.verifier_id))
                return {VERIFIER, EXPIRED} <= set(rows.scalars())

        await until(replica_has_both, "the replica did not fold both certifications")
        replica = runtime.subscriptions[0]  # and every other stream (the standard, the instrument) on its partition
        await asyncio.to_thread(wait_until_caught_up, kafka.bootstrap_servers, [(replica.group_id, replica.topics)])
        async with runtime.engine.connect() as connection:
            cards = dict(
                (
                    await connection.execute(
                        sa.select(replica_verifiers.c.verifier_id, replica_verifiers.c.card_valid_until)
                    )
                ).all()
            )
        assert cards[VERIFIER] is None, "v1: no end date on record"
        assert cards[EXPIRED] == date(2024, 12, 31)

        token = issue_dev_token(settings.auth_jwt_secret, "tester", ["province-admin"], "83")
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=create_app(runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://verification") as http:
            signed_by_v1_card = await http.post("/jobs", json=JOB, headers=headers)
            signed_by_expired_card = await http.post("/jobs", json=JOB | {"verifier_id": EXPIRED}, headers=headers)
        assert signed_by_v1_card.status_code == 201, signed_by_v1_card.text
        assert signed_by_expired_card.status_code == 422, signed_by_expired_card.text
        assert signed_by_expired_card.json()["rule"] == "verifier-card-expired"
        assert "expired on 2024-12-31" in signed_by_expired_card.json()["detail"]
    finally:
        stop.set()
        await workers
        await publisher.stop()
        await registry_engine.dispose()
        await runtime.dispose()
        await infra.drop_database(postgres_admin_url, registry_url)


async def _types_in(engine, store: EventStore, stream: str) -> set[str]:
    async with session_factory(engine).begin() as session:
        return {e.type for e in await store.read_stream(session, stream)}
