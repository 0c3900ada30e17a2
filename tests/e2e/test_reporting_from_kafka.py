"""Reporting as a process on real Kafka and PostgreSQL: catalogue-shaped events in, KPIs out; rebuild; errors."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).parents[2] / "services" / "reporting" / "tests"))
import scripted_year

from metrology.testkit.records import as_cloudevent
from metrology.testkit.services import console_script

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
PLAN = "ben-tre-996-2021"
EVALUATED = {"REPORTING_EVALUATION_DATE": "2025-12-31"}


async def publish_script(platform) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        envelopes = scripted_year.build().envelopes()
        for envelope in envelopes:
            service = envelope.type.split(".")[2]
            topic = f"{platform.prefix}metrology.{service}.v1"
            await producer.send(topic, envelope.to_json(), key=envelope.stream_id.encode())
        await producer.flush()
        return len(envelopes)
    finally:
        await producer.stop()


def progress(platform, as_of: str) -> dict[str, dict]:
    response = httpx.get(f"{platform.url('reporting')}/plans/{PLAN}/progress", params={"as_of": as_of}, timeout=30)
    response.raise_for_status()
    return {t["id"]: t for t in response.json()["targets"]}


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError("condition not reached in time")


def headline(targets: dict[str, dict]) -> dict[str, float]:
    return {name: t["value"] for name, t in targets.items()}


async def status_events(platform) -> list[dict]:
    consumer = AIOKafkaConsumer(
        f"{platform.prefix}metrology.reporting.v1",
        bootstrap_servers=platform.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=5000)
        return [as_cloudevent(r.headers, r.value) for records in batches.values() for r in records]
    finally:
        await consumer.stop()


async def test_kpis_from_the_topics_match_the_script_and_survive_a_rebuild(platform):
    platform.start("reporting", EVALUATED)
    await publish_script(platform)
    want = scripted_year.expected(scripted_year.date(2025, 12, 31))
    wait_for(lambda: progress(platform, "2025-12-31")["person-times-trained-2025"]["value"] == want.person_times)
    wait_for(lambda: progress(platform, "2025-12-31")["demand-coverage-2025"]["details"]["demand"] == want.demand)
    targets = progress(platform, "2025-12-31")
    assert targets["enterprise-times-2025"]["value"] == want.enterprise_times
    assert targets["socialised-providers-2025"]["value"] == want.socialised_providers
    assert targets["accredited-labs-2030"]["value"] == want.labs
    assert targets["demand-coverage-2025"]["value"] == pytest.approx(want.coverage)
    before = headline(targets)

    events = await status_events(platform)
    changed = [e for e in events if e["type"] == "vn.metrology.reporting.target-status-changed.v1"]
    assert {e["data"]["target_id"] for e in changed} == set(targets)
    assert {e["data"]["target_id"]: e["data"]["status"] for e in changed}["enterprise-times-2025"] == "at-risk"

    platform.services["reporting"].stop()
    env = platform.env_for("reporting", EVALUATED)
    command = [console_script("reporting"), "rebuild", "--workers", "2"]  # the partitions shared by two processes
    done = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "rebuilt" in done.stdout and "events/s" in done.stdout
    # the consumer just stopped keeps its static membership until its session expires: the group is left, and said so
    assert f"group {platform.prefix}reporting.projector not moved" in done.stdout
    # vacuumed at the end (pages marked all-visible): coverage and enterprise-times read the kept rows from their
    # indexes alone at once
    assert await not_vacuumed(env["REPORTING_DATABASE_URL"], KEPT_READ_FROM_INDEXES) == []
    platform.start("reporting", EVALUATED)
    assert headline(progress(platform, "2025-12-31")) == before


KEPT_READ_FROM_INDEXES = ["kpi_demand_dates", "kpi_verification_dates", "kpi_enterprise_days"]


async def not_vacuumed(database_url: str, tables: list[str]) -> list[str]:
    """The tables no VACUUM has been run on by hand (by a command, not by autovacuum)."""
    connection = await asyncpg.connect(database_url.replace("+asyncpg", ""))
    try:
        query = "SELECT relname FROM pg_stat_user_tables WHERE relname = ANY($1::text[]) AND last_vacuum IS NOT NULL"
        vacuumed = {row["relname"] for row in await connection.fetch(query, tables)}
    finally:
        await connection.close()
    return [t for t in tables if t not in vacuumed]


def test_a_malformed_plan_file_stops_start_up_with_its_line(platform, tmp_path):
    plan = tmp_path / "bad.yaml"
    plan.write_text("id: bad\ntenant: '84'\ntitle: {vi: x, en: x}\ntargets:\n  - id: t\n    metric: happiness\n")
    env = platform.env_for("reporting", {"REPORTING_PLAN_FILES": str(plan)})
    done = subprocess.run([console_script("reporting"), "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert f"{plan} line 6: targets.0.metric" in done.stderr


def test_bad_query_parameters_get_a_problem_naming_the_parameter(platform):
    url = platform.start("reporting").url
    cases = {
        "/kpis/person-times-trained?as_of=2025-02-30": "query.as_of",
        "/kpis/happiness": "path.metric",
        "/kpis/enterprise-times?as_of=2025-01-01&from=2025-06-01": "from",
        f"/plans/{PLAN}/report.pdf": "path.fmt",
        "/kpis/enterprise-times?tenant=eighty": "query.tenant",
    }
    for path, field in cases.items():
        response = httpx.get(url + path)
        assert response.status_code == 422, path
        assert response.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in response.json()["errors"]], path
    assert httpx.get(f"{url}/plans/nope/progress").status_code == 404


def test_reads_need_a_token_when_the_dashboard_is_not_public(platform):
    url = platform.start("reporting", {"REPORTING_PUBLIC_DASHBOARD": "false"}).url
    assert httpx.get(f"{url}/kpis/person-times-trained").status_code == 401
    token = platform.token("viewer")
    response = httpx.get(f"{url}/kpis/person-times-trained", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
