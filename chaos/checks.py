"""After the load and the faults: every acknowledged command in its service's store exactly once, replicas equal
to their source, the KPIs equal to what the script says, and the live read model equal to a rebuild from the
topics into a fresh database."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from types import ModuleType

import asyncpg
import httpx

from chaos.fleet import Fleet
from chaos.load import Ledger, Load
from metrology.testkit.services import ServiceProcess, console_script, free_port

STORE_SERVICES = ("registry", "verification", "outreach", "training")  # reporting's own events are statuses


@dataclass
class Findings:
    lost: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    kpi_differences: list[str] = field(default_factory=list)
    rebuild_differences: list[str] = field(default_factory=list)
    failed_facts: list[str] = field(default_factory=list)


async def missing_commands(ledger: Ledger, database_urls: dict[str, str]) -> list[str]:
    """Acknowledged commands whose Idempotency-Key row (written in the command's transaction) is not there."""
    missing = []
    for service, url in database_urls.items():
        keys = [c.key for c in ledger.acknowledged() if c.service == service]
        connection = await asyncpg.connect(url)
        try:
            found = {r["key"] for r in await connection.fetch(
                "SELECT key FROM idempotency_keys WHERE key = ANY($1::text[])", keys)}  # fmt: skip
        finally:
            await connection.close()
        missing += [f"{service} {c.method} {c.path} ({c.key})" for c in ledger.acknowledged()
                    if c.service == service and c.key not in found]  # fmt: skip
    return missing


async def duplicate_events(database_urls: dict[str, str]) -> list[str]:
    """The same fact twice in a stream: events of one stream and type whose data are equal."""
    doubled = []
    for service in STORE_SERVICES:
        connection = await asyncpg.connect(database_urls[service])
        try:
            rows = await connection.fetch("SELECT stream_id, type, payload FROM events")
        finally:
            await connection.close()
        seen = Counter((r["stream_id"], r["type"], _data(bytes(r["payload"]))) for r in rows)
        doubled += [f"{service}: {stream} {kind} x{n}" for (stream, kind, _), n in seen.items() if n > 1]
    return doubled


def _data(payload: bytes) -> str:
    document = json.loads(payload)
    data = document.get("data", document) if isinstance(document, dict) and "specversion" in document else document
    return json.dumps(data, sort_keys=True)


async def replica_differences(clients: dict[str, httpx.AsyncClient], load: Load) -> tuple[list[str], list[str]]:
    """(lost, doubled): verification's and outreach's replicas against what the registry acknowledged."""
    lost, doubled = [], []
    counts = (await clients["verification"].get("/replica")).json()
    want = dict(load.driver.registry_counts)
    found = (await clients["outreach"].get("/enterprises", params={"limit": 1})).json()["total"]
    pairs = [(f"verification replica {t}", counts.get(t, 0), n) for t, n in want.items()]
    pairs.append(("outreach replica enterprises", found, load.driver.enterprises))
    for what, have, expected in pairs:
        if have < expected:
            lost.append(f"{what}: {have} of {expected}")
        elif have > expected:
            doubled.append(f"{what}: {have} for {expected}")
    return lost, doubled


async def kpis_as_scripted(scripted: ModuleType, reporting_url: str, load: Load, within: float = 120) -> list[str]:
    """Reporting's answers against the numbers the script's own counting rules give (polled until equal)."""
    plan_id, targets = scripted.plan_targets()
    want = scripted.expected_readings(load.performed, targets, load.driver.ids)
    names = {v: k for k, v in load.driver.ids.items()}
    async with httpx.AsyncClient(base_url=reporting_url, timeout=60) as reporting:
        deadline = time.monotonic() + within
        found = await scripted.read_reporting(reporting, plan_id)
        while found != want and time.monotonic() < deadline:
            await asyncio.sleep(1)
            found = await scripted.read_reporting(reporting, plan_id)
    return list(scripted.differences(scripted.named(found, names), scripted.named(want, names)))


async def rebuild_differences(scripted: ModuleType, fleet: Fleet, fresh_url: str) -> list[str]:
    """`metrology-reporting rebuild` into a fresh database, served beside the live one: every answer equal."""
    env = fleet.env("reporting", "rebuild") | {"REPORTING_DATABASE_URL": fresh_url}
    log = fleet.platform.workdir / "reporting-rebuild.log"
    with log.open("ab") as out:
        await asyncio.to_thread(
            subprocess.run, [console_script("reporting"), "rebuild"], env=env, stdout=out, stderr=out, check=True
        )
    rebuilt = ServiceProcess("reporting", free_port(), env, fleet.platform.workdir / "reporting-rebuilt.log", "serve")
    rebuilt.start()
    try:
        await asyncio.to_thread(rebuilt.wait_ready, 120)
        plan_id, _ = scripted.plan_targets()
        async with (
            httpx.AsyncClient(base_url=fleet.url("reporting"), timeout=60) as live,
            httpx.AsyncClient(base_url=rebuilt.url, timeout=60) as fresh,
        ):
            found = await scripted.read_reporting(live, plan_id)
            again = await scripted.read_reporting(fresh, plan_id)
        return list(scripted.differences(found, again))
    finally:
        rebuilt.stop()


async def check_everything(
    scripted: ModuleType,
    fleet: Fleet,
    load: Load,
    ledger: Ledger,
    clients: dict[str, httpx.AsyncClient],
    database_urls: dict[str, str],
    fresh_url: str,
) -> Findings:
    findings = Findings(failed_facts=list(load.driver.failures))
    findings.lost = await missing_commands(ledger, database_urls)
    findings.doubled = await duplicate_events(database_urls)
    lost, doubled = await replica_differences(clients, load)
    findings.lost += lost
    findings.doubled += doubled
    findings.kpi_differences = await kpis_as_scripted(scripted, fleet.url("reporting"), load)
    findings.rebuild_differences = await rebuild_differences(scripted, fleet, fresh_url)
    return findings
