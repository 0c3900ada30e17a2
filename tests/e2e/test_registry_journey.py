"""The registry started as its own process (`metrology-registry run`) on PostgreSQL and Kafka."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest
from kafka import KafkaConsumer

from metrology.testkit.records import first_distinct_events
from metrology.testkit.services import console_script

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

SAMPLES = Path(__file__).resolve().parents[2] / "services" / "registry" / "samples"


def published_types(platform, count: int, timeout: float = 30.0) -> dict[str, list[str]]:
    """The event types on the registry topic, per stream (Kafka orders records within a stream's partition only)."""
    consumer = KafkaConsumer(
        f"{platform.prefix}metrology.registry.v1",
        bootstrap_servers=platform.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=1000,
    )
    try:
        events = first_distinct_events(consumer, count, timeout)
    finally:
        consumer.close()
    by_stream: dict[str, list[str]] = {}
    for event in events:
        by_stream.setdefault(event["streamid"].split("-", 1)[0], []).append(event["type"])
    return by_stream


def test_the_registration_journey_from_enterprise_to_instrument_reaches_kafka(platform):
    url = platform.start("registry").url
    admin = {"Authorization": f"Bearer {platform.token('province-admin')}"}
    enterprise = httpx.post(
        f"{url}/enterprises",
        json={
            "tax_code": "0300588569",
            "name": "Công ty TNHH Xăng dầu Giồng Trôm",
            "sector": "fuel-retail",
            "address": "Quốc lộ 57, xã Giồng Trôm",
            "province_code": "83",
            "commune_code": "28975",
            "registered_on": "2024-03-04",
        },
        headers=admin,
    )
    assert enterprise.status_code == 201, enterprise.text
    owner = enterprise.json()["id"]
    instrument = httpx.post(
        f"{url}/instruments",
        json={
            "type_code": "2.19",
            "serial": "TAT-2024-000123",
            "manufacturer": "Tatsuno",
            "type_approval_number": "PDM 149-2019",
            "owner_enterprise_id": owner,
            "province_code": "83",
            "commune_code": "28975",
            "registered_on": "2024-04-01",
        },
        headers=admin,
    )
    assert instrument.status_code == 201, instrument.text
    retired = httpx.post(
        f"{url}/instruments/{instrument.json()['id']}/status",
        json={"status": "out-of-use", "changed_on": "2025-01-06"},
        headers=admin,
    )
    assert retired.status_code == 200, retired.text

    json_body = admin | {"Content-Type": "application/json"}
    again = httpx.post(f"{url}/enterprises", content=enterprise.request.content, headers=json_body)
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "tax_code"

    mine = {"Authorization": f"Bearer {platform.token('enterprise', enterprise_id=owner)}"}
    other = {"Authorization": f"Bearer {platform.token('enterprise', enterprise_id='someone-else')}"}
    assert httpx.get(f"{url}/instruments", headers=mine).json()["total"] == 1
    assert httpx.get(f"{url}/instruments", headers=other).json()["total"] == 0
    provider = {"Authorization": f"Bearer {platform.token('provider', provider_id='p-1')}"}
    assert httpx.post(f"{url}/enterprises", json={}, headers=provider).status_code == 403

    assert published_types(platform, 3) == {
        "enterprise": ["vn.metrology.registry.enterprise-registered.v1"],
        "instrument": [
            "vn.metrology.registry.instrument-registered.v1",
            "vn.metrology.registry.instrument-status-changed.v1",
        ],
    }


def test_imports_are_all_or_nothing_through_the_running_service(platform):
    url = platform.start("registry").url
    admin = {"Authorization": f"Bearer {platform.token('province-admin')}"}
    lines = (SAMPLES / "enterprises.csv").read_text(encoding="utf-8").splitlines()
    bad = lines[:]
    bad[6] = "0300588568" + bad[6][10:]  # row 7: a tax code failing its check digit

    rejected = httpx.post(f"{url}/imports/enterprises", content="\n".join(bad).encode(), headers=admin)
    assert rejected.status_code == 422
    assert [(e["row"], e["field"]) for e in rejected.json()["errors"]] == [(7, "tax_code")]
    assert httpx.get(f"{url}/enterprises", headers=admin).json()["total"] == 0

    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    good = httpx.post(
        f"{url}/imports/enterprises",
        content=(SAMPLES / "enterprises.xlsx").read_bytes(),
        headers=admin | {"Content-Type": xlsx},
    )
    assert good.status_code == 201, good.text
    assert httpx.get(f"{url}/enterprises", headers=admin).json()["total"] == len(lines) - 1
    instruments = httpx.post(
        f"{url}/imports/instruments", content=(SAMPLES / "instruments.csv").read_bytes(), headers=admin
    )
    assert instruments.status_code == 201, instruments.text


def test_the_demo_data_command_is_idempotent_and_the_schemas_are_published(platform):
    service = platform.start("registry")
    token = platform.token("province-admin", subject="demo-loader")
    env = platform.env_for("registry")
    command = [console_script("registry"), "demo-data", "--url", service.url, "--token", token]

    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, check=True)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240, check=True)

    assert "enterprises: 61" in first.stdout, first.stdout + first.stderr
    assert second.stdout.strip() == "enterprises: 0, providers: 0, laboratories: 0, standards: 0, instruments: 0"
    viewer = {"Authorization": f"Bearer {platform.token('viewer')}"}
    instruments = httpx.get(f"{service.url}/instruments", params={"limit": 1}, headers=viewer).json()
    assert 350 <= instruments["total"] <= 450
    schemas = httpx.get(f"{service.url}/events/schemas").json()
    printed = json.loads(
        subprocess.run(
            [console_script("registry"), "schemas"], env=env, capture_output=True, text=True, check=True
        ).stdout
    )
    assert schemas == printed
    assert "vn.metrology.registry.provider-designated.v1" in schemas
