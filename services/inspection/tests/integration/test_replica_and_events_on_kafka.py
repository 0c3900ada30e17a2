"""On the real broker: registry and certificate events on their topics fill the inspection replica; a visit's
findings judged by it go out on `metrology.inspection.v1` (CloudEvents binary mode), with the unregistered and
the overdue instrument as events of their own for the registry and reporting."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.topics import event_topic
from metrology.inspection.adapters.tables import replica_certificates, replica_instruments
from metrology.inspection.bootstrap import bootstrap
from metrology.inspection.settings import InspectionSettings
from metrology.servicekit.app import create_app
from metrology.servicekit.workers import Workers
from metrology.testkit import infra

from .conftest import Service
from .world import LAPSED, envelopes, registry_events, verification_events

pytestmark = [pytest.mark.integration]
PREFIX = "vn.metrology.inspection."


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = 60) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {within} s")


async def produce(kafka: KafkaConnection, prefix: str) -> None:
    """The registry's and verification's events, keyed by stream, as their relays write them."""
    producer = AIOKafkaProducer(**kafka.aiokafka_options(), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for service, pairs in [("registry", registry_events()), ("verification", verification_events())]:
            for envelope in envelopes(pairs, f"/metrology/{service}"):
                key, value, headers = envelope.to_kafka()
                await producer.send_and_wait(prefix + event_topic(service), value=value, key=key, headers=headers)
    finally:
        await producer.stop()


async def records_of(kafka: KafkaConnection, topic: str, count: int) -> list[Any]:
    consumer = AIOKafkaConsumer(topic, **kafka.aiokafka_options(), auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)  # fmt: skip
    await consumer.start()
    found: dict[bytes, Any] = {}  # by event id: delivery is at least once, a record may be on the topic twice
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while len(found) < count and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for record in (record for records in batches.values() for record in records):
                found.setdefault(dict(record.headers)["ce_id"], record)
    finally:
        await consumer.stop()
    return list(found.values())


async def test_the_replica_fed_from_kafka_judges_findings_and_the_inspection_events_reach_the_topic(
    kafka: KafkaConnection, postgres_url: str
):
    prefix = infra.topic_prefix("it")
    settings = InspectionSettings.from_env(
        "inspection", database_url=postgres_url, kafka_topic_prefix=prefix,
        kafka_bootstrap_servers=kafka.bootstrap_servers, tenant="83",
    )  # fmt: skip
    runtime = bootstrap(settings)
    await runtime.migrate()
    stop = asyncio.Event()
    workers = asyncio.create_task(Workers(runtime, relay=True, consumers=True).run(stop))
    app = create_app(runtime)
    try:
        await produce(kafka, prefix)

        async def replica_filled() -> bool:
            async with runtime.engine.connect() as connection:
                instruments = await connection.execute(sa.select(sa.func.count()).select_from(replica_instruments))
                certificates = await connection.execute(sa.select(sa.func.count()).select_from(replica_certificates))
                return (instruments.scalar_one(), certificates.scalar_one()) == (3, 2)

        await eventually(replica_filled, "the replica filling from the registry and verification topics")
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://inspection") as client:
            service = Service(runtime, client)
            visit = await service.visit(await service.campaign())
            lapsed = await service.post(f"/visits/{visit}/findings", {"instrument_id": LAPSED})
            unknown = await service.post(f"/visits/{visit}/findings", {"type_code": "2.19", "serial": "CD-7777"})
        assert lapsed["events"][0]["verification_status"] == "overdue"
        assert unknown["events"][0]["registry_status"] == "unregistered"

        records = await records_of(kafka, runtime.topic, 7)
        by_type = {dict(r.headers)["ce_type"].decode().removeprefix(PREFIX): r for r in records}
        assert set(by_type) == {
            "inspection-plan-approved.v1", "campaign-launched.v1", "visit-recorded.v1", "finding-recorded.v1",
            "overdue-instrument-found.v1", "instrument-found-unregistered.v1",
        }  # fmt: skip
        unregistered = by_type["instrument-found-unregistered.v1"]
        headers = dict(unregistered.headers)
        assert unregistered.key.decode() == f"visit-{visit}" and headers["content-type"] == b"application/json"
        assert (headers["ce_source"], headers["ce_tenant"]) == (b"/metrology/inspection", b"83")
        data = json.loads(unregistered.value)
        assert (data["type_code"], data["serial"], data["enterprise_id"]) == ("2.19", "CD-7777", "ent-petro-1")
        overdue = json.loads(by_type["overdue-instrument-found.v1"].value)
        assert (overdue["instrument_id"], overdue["valid_until"]) == (LAPSED, "2026-03-01")
    finally:
        stop.set()
        await asyncio.wait_for(workers, 30)
        await runtime.dispose()
