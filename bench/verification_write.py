"""The verification write path over HTTP: commands/s and latency with every registry check on.

Sets up a fresh PostgreSQL database and a topic prefix of its own, publishes a registry (providers with
designations, verifiers, working standards, instruments) as registry-shaped CloudEvents to
`<prefix>metrology.registry.v1`, starts `metrology-verification run` as a process (HTTP API, outbox relay to Kafka
and the registry replica consumer in one process), waits until the replica holds the registry, then drives `POST
/jobs` from N concurrent httpx clients. Then, as peers for the ceiling on the same machine, the same clients call
`GET /health` (no auth, no database: the HTTP framework's ceiling) and `GET /jobs/{id}` (auth and one indexed
read) on the same process. Each row also gives the service process's CPU time per request. Each job is a passed
periodic verification of a random instrument: the handler reads the replica (instrument with its status history,
provider with designations, verifier with suspensions, working standard with recalibrations), appends the job's
events, writes the job, certificate and due-date rows, all in one transaction; the relay publishes them to Kafka
meanwhile.

    .venv/bin/python bench/verification_write.py --clients 8 --requests 3000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from metrology.eventkit.envelope import Envelope, EventContext
from metrology.eventkit.events import DomainEvent
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.topics import TopicSpec, ensure_topics, event_topic
from metrology.registry.domain import events as r
from metrology.servicekit.auth import issue_dev_token

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SECRET = "bench-secret-" + "0" * 40
TYPES = ["2.8b", "2.19", "2.21a", "2.43b", "2.10"]


def registry_world(providers: int, instruments: int) -> tuple[list[tuple[str, DomainEvent]], list[dict[str, str]]]:
    """Registry events, and for each instrument a job template that passes every check."""
    rng = random.Random(996)
    events: list[tuple[str, DomainEvent]] = []
    staff: list[tuple[str, str, str]] = []  # provider, verifier, standard
    for p in range(providers):
        provider = f"prov-{p:03d}"
        stream = f"provider-{provider}"
        events.append((stream, r.ProviderRegistered(
            occurred_on=date(2020, 1, 1), provider_id=provider, name=f"Provider {p}", ownership="socialised",
            province_code="83" if p % 3 else "79", commune_code="28756", fields=["mass", "volume", "electricity"],
            registration_certificate_number=f"{p}/ĐKDV", registration_certificate_date=date(2020, 1, 1))))  # fmt: skip
        events.append((stream, r.ProviderDesignated(
            occurred_on=date(2021, 1, 1), provider_id=provider, designation_id=f"des-{p}", decision_number=f"{p}/QĐ",
            instrument_types=TYPES, fields=["mass", "volume", "electricity"], valid_from=date(2021, 1, 1),
            valid_until=date(2030, 12, 31))))  # fmt: skip
        for v in range(10):
            verifier = f"ver-{p:03d}-{v}"
            events.append((stream, r.VerifierCertified(
                occurred_on=date(2021, 2, 1), provider_id=provider, verifier_id=verifier, card_number=f"KĐV-{p}-{v}",
                personal=None, fields=["mass", "volume", "electricity"],
                card_valid_until=None)))  # fmt: skip
            standard = f"std-{p:03d}-{v}"
            events.append((f"standard-{standard}", r.StandardRegistered(
                occurred_on=date(2024, 1, 1), standard_id=standard, owner_id=provider, name="M1", quantity="mass",
                measuring_range="20 kg", accuracy="M1", level="working", calibrated_against="ref",
                certificate_number="C",
                calibrated_on=date(2025, 1, 1), due_on=date(2030, 1, 1))))  # fmt: skip
            staff.append((provider, verifier, standard))
    jobs = []
    for i in range(instruments):
        instrument = f"inst-{i:06d}"
        events.append((f"instrument-{instrument}", r.InstrumentRegistered(
            occurred_on=date(2024, 1, 2) + timedelta(days=i % 365), instrument_id=instrument,
            type_code=TYPES[i % len(TYPES)], serial=f"SN-{i:06d}", manufacturer="Vinascale",
            owner_enterprise_id=f"ent-{i % 500:04d}", province_code="83", commune_code="28756")))  # fmt: skip
        provider, verifier, standard = rng.choice(staff)
        jobs.append({
            "kind": "verification", "mode": "periodic", "subject": "instrument", "subject_id": instrument,
            "provider_id": provider, "verifier_id": verifier, "procedure": "ĐLVN 14:2009",
            "working_standard_id": standard, "result": "pass",
        })  # fmt: skip
    return events, jobs


async def publish_registry(kafka: KafkaConnection, topic: str, pairs: list[tuple[str, DomainEvent]]) -> None:
    producer = AIOKafkaProducer(**kafka.aiokafka_options(), acks="all", linger_ms=5)
    await producer.start()
    versions: dict[str, int] = {}
    try:
        sends = []
        for stream, event in pairs:
            versions[stream] = versions.get(stream, 0) + 1
            envelope = Envelope.wrap(
                event, source="/metrology/registry", stream_id=stream, stream_version=versions[stream],
                context=EventContext(tenant="83"),
            )  # fmt: skip
            sends.append(await producer.send(topic, envelope.to_json(), key=stream.encode()))
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


def start_service(db_url: str, prefix: str, kafka: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    script = shutil.which("metrology-verification") or str(REPO / ".venv" / "bin" / "metrology-verification")
    env = os.environ | {
        "VERIFICATION_DATABASE_URL": db_url,
        "KAFKA_TOPIC_PREFIX": prefix,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "ENVIRONMENT": "development",
        "AUTH_JWT_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
    }
    args = [script, "run", "--host", "127.0.0.1", "--port", str(port)]
    return subprocess.Popen(args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


async def wait_for_replica(client: httpx.AsyncClient, instruments: int) -> tuple[float, float]:
    """Seconds from service start until the replica holds every instrument, and from its first instrument on."""
    started = time.perf_counter()
    first: float | None = None
    while time.perf_counter() - started < 180:
        try:
            response = await client.get("/replica")
            if response.status_code == 200:
                held = response.json()["instruments"]
                now = time.perf_counter()
                if held and first is None:
                    first = now
                if held >= instruments:
                    return now - started, now - (first or started)
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.05)
    raise TimeoutError("the replica did not catch up")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "")
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    kb = next((int(line.split()[1]) for line in meminfo.splitlines() if line.startswith("MemTotal")), 0)
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gib": round(kb / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def job_requests(jobs: list[dict[str, str]], requests: int) -> list[tuple[str, str, Any]]:
    first = date(2025, 6, 2)
    return [
        ("POST", "/jobs", jobs[n % len(jobs)] | {"performed_on": (first + timedelta(days=n // len(jobs))).isoformat()})
        for n in range(requests)
    ]


async def drive(
    client: httpx.AsyncClient,
    calls: list[tuple[str, str, Any]],
    clients: int,
    *,
    what: str = "POST /jobs",
    pid: int | None = None,
    job_ids: list[str] | None = None,
) -> dict[str, Any]:
    """Send `calls` (method, path, JSON body) from `clients` concurrent workers; latency and throughput."""
    queue: asyncio.Queue[tuple[str, str, Any]] = asyncio.Queue()
    for call in calls:
        queue.put_nowait(call)
    requests = len(calls)
    latencies: list[float] = []
    failures: dict[str, int] = {}

    async def worker() -> None:
        while not queue.empty():
            method, path, body = queue.get_nowait()
            started = time.perf_counter()
            response = await client.request(method, path, json=body)
            latencies.append(time.perf_counter() - started)
            if response.status_code not in (200, 201):
                key = f"{response.status_code} {response.json().get('rule')}"
                failures[key] = failures.get(key, 0) + 1
            elif job_ids is not None and method == "POST":
                job_ids.append(response.json()["job_id"])

    cpu_before = cpu_seconds(pid) if pid else 0.0
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(pid) - cpu_before if pid else 0.0
    latencies.sort()
    return {
        "what": what,
        "clients": clients,
        "requests": requests,
        "seconds": round(elapsed, 2),
        "commands_per_second": round(requests / elapsed, 1),
        "service_cpu_ms_per_request": round(cpu * 1000 / requests, 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1),
        "failures": failures,
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    kafka = KafkaConnection(bootstrap_servers=args.kafka)
    tag = uuid.uuid4().hex[:8]
    prefix, db_name = f"bench.{tag}.", f"bench_verification_{tag}"
    admin = await asyncpg.connect(args.pg_url)
    await admin.execute(f'CREATE DATABASE "{db_name}"')
    db_url = args.pg_url.rsplit("/", 1)[0] + f"/{db_name}"
    pairs, jobs = registry_world(args.providers, args.instruments)
    topic = prefix + event_topic("registry")
    ensure_topics(kafka, [TopicSpec(topic, 3, 1)])
    await publish_registry(kafka, topic, pairs)
    port = 18000 + random.randrange(1000)
    log = BENCH / "results" / "verification_write.log"
    log.parent.mkdir(exist_ok=True)
    process = start_service(db_url, prefix, args.kafka, port, log)
    token = issue_dev_token(SECRET, "bench", ["province-admin"], "83")
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, timeout=60, limits=limits
        ) as client:
            replica_seconds, fold_seconds = await wait_for_replica(client, args.instruments)
            job_ids: list[str] = []
            warm_up = job_requests(jobs, min(200, args.requests))
            await drive(client, warm_up, min(args.clients, 4), job_ids=job_ids)  # not counted
            load_before = os.getloadavg()
            pid = process.pid
            results = [
                await drive(client, job_requests(jobs[200:], args.requests), clients, pid=pid)
                for clients in args.clients_list
            ]
            if not args.no_peers:  # the same clients on simpler endpoints of the same process: the ceilings
                health = [("GET", "/health", None)] * args.requests
                one_read = [("GET", f"/jobs/{job_ids[n % len(job_ids)]}", None) for n in range(args.requests)]
                for clients in args.clients_list:
                    results.append(await drive(client, health, clients, what="GET /health", pid=pid))
                    results.append(await drive(client, one_read, clients, what="GET /jobs/{id}", pid=pid))
            load_after = os.getloadavg()
    finally:
        process.terminate()
        process.wait(30)
        await admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        await admin.close()
    return {
        "benchmark": "verification_write",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_after,
        "registry": {"events": len(pairs), "instruments": args.instruments, "providers": args.providers},
        "replica_catch_up_seconds": round(replica_seconds, 2),
        "replica_fold_seconds": round(fold_seconds, 2),
        "replica_events_per_second": round(len(pairs) / max(fold_seconds, 0.05)),
        "runs": results,
    }


def git_commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("METROLOGY_TEST_PG_URL", "postgresql://metrology:metrology@127.0.0.1:55432/metrology"),
    )
    parser.add_argument("--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--instruments", type=int, default=5000)
    parser.add_argument("--providers", type=int, default=5)
    parser.add_argument("--requests", type=int, default=2000, help="jobs per run")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16], dest="clients_list")
    parser.add_argument("--no-peers", action="store_true", help="skip the GET /health and GET /jobs/{id} peers")
    args = parser.parse_args()
    args.clients = max(args.clients_list)
    return args


if __name__ == "__main__":
    outcome = asyncio.run(main(parse()))
    (BENCH / "results" / "verification_write.json").write_text(json.dumps(outcome, indent=2, default=str))
    print(f"machine: {outcome['machine']}, load before {outcome['load_before']}, after {outcome['load_after']}")
    fold = f"folded in {outcome['replica_fold_seconds']} s: {outcome['replica_events_per_second']} events/s"
    print(f"registry: {outcome['registry']}, replica caught up in {outcome['replica_catch_up_seconds']} s ({fold})")
    print(f"{'what':>15} {'clients':>8} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'cpu ms':>7}  failures")  # fmt: skip
    for run in outcome["runs"]:
        print(f"{run['what']:>15} {run['clients']:>8} {run['requests']:>9} {run['commands_per_second']:>8} "
              f"{run['p50_ms']:>8} {run['p95_ms']:>8} {run['p99_ms']:>8} {run['service_cpu_ms_per_request']:>7}  "
              f"{run['failures'] or '-'}")  # fmt: skip
