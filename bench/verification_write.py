"""The verification write path over HTTP: commands/s and latency with every registry check on.

Sets up a fresh PostgreSQL database and a topic prefix of its own, publishes a registry (providers with
designations, verifiers, working standards, instruments) as registry-shaped CloudEvents to
`<prefix>metrology.registry.v1`, starts `metrology-verification run` as a process (HTTP API, outbox relay to Kafka
and the registry replica consumer in one process), waits until the replica holds the registry, then drives `POST
/jobs` from N concurrent clients (keep-alive HTTP/1.1 connections on the bench's own small client, so that the
clients take little of the machine). The baseline, driven by the same clients in the same run right after each
row: a plain FastAPI app served the same way (one uvicorn process) whose `POST /jobs` validates the same body
with a pydantic model and inserts one row with asyncpg into a table of its own on the same PostgreSQL, answering
201. `--rate R` adds open-loop rows at R requests/s for both (latency counted from each request's scheduled
start, so a stall is not hidden). As further peers, `GET /health` (no auth, no database) and `GET /jobs/{id}`
(auth and one indexed read) on the service. Each row also gives the server process's CPU time per request.
Each job is a passed periodic verification of a random instrument: the handler reads the replica
(instrument with its status history, provider with designations, verifier with suspensions, working standard
with recalibrations) in one statement, then appends the job's events and writes the job, certificate and due-date
rows in a second one that commits by itself (ADR 16); the relay publishes them to Kafka meanwhile. Each row also
gives the PostgreSQL backends opened meanwhile ("new conns"): 0 when the pool holds the row's concurrency.

    .venv/bin/python bench/verification_write.py --clients 1 16 --requests 3000 --rate 200
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
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import asyncpg
from aiokafka import AIOKafkaProducer
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials as Credentials
from fastapi.security import HTTPBearer
from pydantic import BaseModel

from metrology.eventkit.envelope import Envelope, EventContext
from metrology.eventkit.events import DomainEvent
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.topics import TopicSpec, ensure_topics, event_topic
from metrology.registry.domain import events as r
from metrology.servicekit.auth import Principal, issue_dev_token
from metrology.testkit.infra import delete_topics_beginning_with

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SECRET = "bench-secret-" + "0" * 40
_BEARER = HTTPBearer(auto_error=False)
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


def service_env(db_url: str, prefix: str, kafka: str) -> dict[str, str]:
    return os.environ | {
        "VERIFICATION_DATABASE_URL": db_url,
        "KAFKA_TOPIC_PREFIX": prefix,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "ENVIRONMENT": "development",
        "AUTH_JWT_SECRET": SECRET,
        "LOG_LEVEL": "WARNING",
    }


def start_service(
    db_url: str, prefix: str, kafka: str, port: int, log: Path, shape: str
) -> list[subprocess.Popen[bytes]]:
    """`run`: HTTP, relay and consumers in one process (a laptop's shape); `split`: `serve`, `relay` and `consume`
    as three processes, as deploy/k8s runs them. The API process comes first (its CPU is the row's)."""
    script = shutil.which("metrology-verification") or str(REPO / ".venv" / "bin" / "metrology-verification")
    env = service_env(db_url, prefix, kafka)
    http = ["--host", "127.0.0.1", "--port", str(port)]
    commands = [["run", *http]] if shape == "run" else [["serve", *http], ["relay"], ["consume"]]
    output = log.open("wb")
    return [subprocess.Popen([script, *args], env=env, stdout=output, stderr=subprocess.STDOUT) for args in commands]


# The baseline: a plain FastAPI + asyncpg insert endpoint, served like the service (one uvicorn process).

BASELINE_TABLE = """
CREATE TABLE IF NOT EXISTS baseline_jobs (
    job_id uuid PRIMARY KEY, kind text NOT NULL, mode text NOT NULL, subject_id text NOT NULL,
    provider_id text NOT NULL, verifier_id text NOT NULL, procedure text NOT NULL, working_standard_id text,
    performed_on date NOT NULL, result text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now()
)"""
BASELINE_INSERT = (
    "INSERT INTO baseline_jobs (job_id, kind, mode, subject_id, provider_id, verifier_id, procedure, "
    "working_standard_id, performed_on, result) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
)


class BaselineJob(BaseModel):
    kind: str
    mode: str
    subject: str
    subject_id: str
    provider_id: str
    verifier_id: str
    procedure: str
    working_standard_id: str | None = None
    performed_on: date
    result: str


def serve_baseline(db_url: str, port: int) -> None:
    import contextlib
    from collections.abc import AsyncIterator

    import uvicorn
    from fastapi import FastAPI

    pool: asyncpg.Pool | None = None

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(db_url, min_size=24, max_size=24)
        await pool.execute(BASELINE_TABLE)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/jobs", status_code=201)
    async def record_job(body: BaselineJob) -> dict[str, str]:
        assert pool is not None
        job_id = uuid.uuid4()
        await pool.execute(
            BASELINE_INSERT, job_id, body.kind, body.mode, body.subject_id, body.provider_id, body.verifier_id,
            body.procedure, body.working_standard_id, body.performed_on, body.result,
        )  # fmt: skip
        return {"job_id": str(job_id)}

    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


# What-ifs: the service's own app as its bootstrap builds it, API only (the relay and the replica stay in the
# `run` process), then without some of the kit's per-request layers, to show what they cost.

WHAT_IFS = {
    "api": "what-if: API only",
    "bare": "what-if: API only, no tracing/freshness middleware",
    "bare-tokens": "what-if: ... and each token verified once",
}


def serve_what_if(variant: str, port: int) -> None:
    import uvicorn
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
    from starlette.middleware.base import BaseHTTPMiddleware

    from metrology.servicekit.app import create_app
    from metrology.servicekit.auth import authenticate
    from metrology.servicekit.observability import configure_logging
    from metrology.verification.bootstrap import bootstrap
    from metrology.verification.settings import VerificationSettings

    settings = VerificationSettings.from_env("verification")
    configure_logging(settings)
    app = create_app(bootstrap(settings), with_workers=False)
    if variant in ("bare", "bare-tokens"):
        app.user_middleware = [m for m in app.user_middleware if m.cls is not BaseHTTPMiddleware]
        FastAPIInstrumentor.uninstrument_app(app)
        SQLAlchemyInstrumentor().uninstrument()
        app.middleware_stack = None  # built again, from the middleware left, on the first request
    if variant == "bare-tokens":
        app.dependency_overrides[authenticate] = verified_once
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)


_VERIFIED: dict[str, Principal] = {}


async def verified_once(request: Request, credentials: Annotated[Credentials | None, Depends(_BEARER)]) -> Principal:
    if credentials is None:
        raise HTTPException(401, "a bearer token is required")
    token = credentials.credentials
    if token not in _VERIFIED:
        _VERIFIED[token] = request.app.state.token_verifier.verify(token)
    return _VERIFIED[token]


def start_what_if(variant: str, env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    args = [sys.executable, __file__, "--serve-what-if", variant, "--port", str(port)]
    return subprocess.Popen(args, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def start_baseline(db_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    args = [sys.executable, __file__, "--serve-baseline", "--pg-url", db_url, "--port", str(port)]
    return subprocess.Popen(args, stdout=log.open("wb"), stderr=subprocess.STDOUT)


# The clients: keep-alive HTTP/1.1 on asyncio streams, far lighter than a general client, so that on two cores
# the bench takes as little as it can from the servers it measures.


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer


class Client:
    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.idle: list[Connection] = []

    async def request(self, method: str, path: str, body: Any) -> tuple[int, bytes]:
        content = b"" if body is None else json.dumps(body).encode()
        kind = "content-type: application/json\r\n" if body is not None else ""
        head = f"{method} {path} HTTP/1.1\r\nhost: bench\r\n{self.head}{kind}content-length: {len(content)}\r\n\r\n"
        while self.idle:  # a kept-alive connection the server has closed meanwhile (idle timeout): the next one
            connection = self.idle.pop()
            try:
                return await self._exchange(connection, head.encode() + content)
            except (asyncio.IncompleteReadError, ConnectionError):
                connection.writer.close()
        connection = Connection(*await asyncio.open_connection("127.0.0.1", self.port))
        return await self._exchange(connection, head.encode() + content)

    async def _exchange(self, connection: Connection, request: bytes) -> tuple[int, bytes]:
        connection.writer.write(request)
        head = await connection.reader.readuntil(b"\r\n\r\n")
        status, length = int(head[9:12]), 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding":
                raise RuntimeError("chunked answers are not expected here")
        answer = await connection.reader.readexactly(length)
        self.idle.append(connection)
        return status, answer

    async def close(self) -> None:
        for connection in self.idle:
            connection.writer.close()
        self.idle.clear()


async def wait_until_up(port: int, path: str, headers: dict[str, str], ready: Any, seconds: float = 180) -> float:
    """Seconds until `GET path` answers 200 and `ready(json)` holds."""
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        client = Client(port, headers)
        try:
            status, answer = await client.request("GET", path, None)
            if status == 200 and ready(json.loads(answer)):
                return time.perf_counter() - started
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            await client.close()
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{path} on port {port} did not become ready")


async def wait_for_replica(port: int, headers: dict[str, str], instruments: int) -> tuple[float, float]:
    """Seconds from service start until the replica holds every instrument, and from its first instrument on."""
    started = time.perf_counter()
    await wait_until_up(port, "/replica", headers, lambda held: held["instruments"] > 0)
    first = time.perf_counter()
    await wait_until_up(port, "/replica", headers, lambda held: held["instruments"] >= instruments)
    now = time.perf_counter()
    return now - started, now - first


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """User + system CPU time so far of every process of the PostgreSQL server on this host (postmaster, backends,
    WAL writer, checkpointer, autovacuum): the database's share of the machine, beside the service's own. Backends
    that ended meanwhile are not counted (the pool keeps its connections: the row's "new conns" says how many)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "cmdline").read_bytes().startswith(b"postgres"):
                total += cpu_seconds(int(entry.name))
        except OSError:  # ended while being read
            continue
    return total


class CpuMeter:
    """The CPU time the service process and the local PostgreSQL server spend during a row."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.service, self.postgres = cpu_seconds(pid), postgres_cpu_seconds()

    def spent(self) -> tuple[float, float]:
        return cpu_seconds(self.pid) - self.service, postgres_cpu_seconds() - self.postgres


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


def job_requests(jobs: list[dict[str, str]], requests: int, first: date) -> list[tuple[str, str, Any]]:
    return [
        ("POST", "/jobs", jobs[n % len(jobs)] | {"performed_on": (first + timedelta(days=n // len(jobs))).isoformat()})
        for n in range(requests)
    ]


def summary(
    what: str, clients: int | str, latencies: list[float], elapsed: float, cpu: tuple[float, float]
) -> dict[str, Any]:
    latencies = sorted(latencies)
    requests = len(latencies)
    service_cpu, postgres_cpu = cpu
    return {
        "what": what,
        "clients": clients,
        "requests": requests,
        "seconds": round(elapsed, 2),
        "commands_per_second": round(requests / elapsed, 1),
        "server_cpu_ms_per_request": round(service_cpu * 1000 / requests, 2),
        "postgres_cpu_ms_per_request": round(postgres_cpu * 1000 / requests, 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1),
        "load_1min": round(os.getloadavg()[0], 2),
    }


async def drive(
    client: Client,
    calls: list[tuple[str, str, Any]],
    clients: int,
    *,
    what: str,
    pid: int,
    job_ids: list[str] | None = None,
) -> dict[str, Any]:
    """Send `calls` (method, path, JSON body) from `clients` concurrent workers (closed loop)."""
    pending = iter(calls)
    latencies: list[float] = []
    failures: dict[str, int] = {}

    async def worker() -> None:
        for method, path, body in pending:
            started = time.perf_counter()
            status, answer = await client.request(method, path, body)
            latencies.append(time.perf_counter() - started)
            note(status, answer, failures, job_ids)

    meter = CpuMeter(pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return summary(what, clients, latencies, elapsed, meter.spent()) | {"failures": failures}


async def drive_at_rate(
    client: Client, calls: list[tuple[str, str, Any]], rate: float, *, what: str, pid: int
) -> dict[str, Any]:
    """Send `calls` open loop at `rate` per second; each latency runs from the request's scheduled start."""
    latencies: list[float] = []
    failures: dict[str, int] = {}
    loop = asyncio.get_running_loop()

    async def one(call: tuple[str, str, Any], scheduled: float) -> None:
        status, answer = await client.request(*call)
        latencies.append(loop.time() - scheduled)
        note(status, answer, failures, None)

    meter = CpuMeter(pid)
    started = loop.time()
    tasks = []
    for n, call in enumerate(calls):
        scheduled = started + n / rate
        await asyncio.sleep(max(0.0, scheduled - loop.time()))
        tasks.append(asyncio.create_task(one(call, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = loop.time() - started
    return summary(what, f"{rate:g}/s", latencies, elapsed, meter.spent()) | {"failures": failures}


def backends_opened(
    admin: asyncpg.Connection, db_name: str
) -> Callable[[Awaitable[dict[str, Any]]], Awaitable[dict[str, Any]]]:
    """Runs a row and adds the PostgreSQL backends opened on the bench's database meanwhile: a pool too small for
    the row opens one per request past it (a new process, its statements prepared again)."""

    async def sessions() -> int:
        await asyncio.sleep(1.1)  # a backend reports its session to the statistics within a second
        return int(await admin.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = $1", db_name))

    async def run(row: Awaitable[dict[str, Any]]) -> dict[str, Any]:
        before = await sessions()
        outcome = await row
        return outcome | {"backends_opened": await sessions() - before}

    return run


def note(status: int, answer: bytes, failures: dict[str, int], job_ids: list[str] | None) -> None:
    if status not in (200, 201):
        key = f"{status} {json.loads(answer).get('rule')}"
        failures[key] = failures.get(key, 0) + 1
    elif job_ids is not None and status == 201:
        job_ids.append(json.loads(answer)["job_id"])


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
    results_dir = BENCH / "results"
    results_dir.mkdir(exist_ok=True)
    processes = start_service(db_url, prefix, args.kafka, port, results_dir / "verification_write.log", args.shape)
    process = processes[0]
    baseline = start_baseline(db_url, port + 1000, results_dir / "verification_write_baseline.log")
    auth = {"authorization": f"Bearer {issue_dev_token(SECRET, 'bench', ['province-admin'], '83')}"}
    service, plain = Client(port, auth), Client(port + 1000, {})
    runs: list[dict[str, Any]] = []
    try:
        replica_seconds, fold_seconds = await wait_for_replica(port, auth, args.instruments)
        await wait_until_up(port + 1000, "/health", {}, lambda _: True)
        job_ids: list[str] = []
        await drive(service, job_requests(jobs, 200, date(2025, 6, 2)), 4, what="warm-up", pid=process.pid)
        await drive(plain, job_requests(jobs, 200, date(2025, 6, 2)), 4, what="warm-up", pid=baseline.pid)
        load_before = os.getloadavg()
        days = iter(date(2025, 7, 1) + timedelta(days=30 * n) for n in range(1000))  # each row on dates of its own
        opened = backends_opened(admin, db_name)
        for clients in args.clients_list:
            calls = job_requests(jobs, args.requests, next(days))
            service_row = drive(service, calls, clients, what="POST /jobs", pid=process.pid, job_ids=job_ids)
            runs.append(await opened(service_row))
            runs.append(await opened(drive(plain, calls, clients, what="baseline POST", pid=baseline.pid)))
        for rate in args.rates:
            calls = job_requests(jobs, int(rate * args.rate_seconds), next(days))
            runs.append(await opened(drive_at_rate(service, calls, rate, what="POST /jobs", pid=process.pid)))
            runs.append(await opened(drive_at_rate(plain, calls, rate, what="baseline POST", pid=baseline.pid)))
        if not args.no_peers:  # the same clients on simpler endpoints of the service: its HTTP stack's ceilings
            health = [("GET", "/health", None)] * args.requests
            one_read = [("GET", f"/jobs/{job_ids[n % len(job_ids)]}", None) for n in range(args.requests)]
            for clients in args.clients_list:
                runs.append(await drive(service, health, clients, what="GET /health", pid=process.pid))
                runs.append(await drive(service, one_read, clients, what="GET /jobs/{id}", pid=process.pid))
        for variant in args.what_ifs:
            runs += await what_if(variant, service_env(db_url, prefix, args.kafka), port + 2000, jobs, args, auth)
        load_after = os.getloadavg()
    finally:
        await service.close()
        await plain.close()
        for server in (*processes, baseline):
            server.terminate()
            server.wait(30)
        await admin.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        await admin.close()
        delete_topics_beginning_with(args.kafka, [prefix])  # the registry's log, the service's topics and dead letters
    return {
        "benchmark": "verification_write",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_after,
        "shape": args.shape,
        "registry": {"events": len(pairs), "instruments": args.instruments, "providers": args.providers},
        "replica_catch_up_seconds": round(replica_seconds, 2),
        "replica_fold_seconds": round(fold_seconds, 2),
        "replica_events_per_second": round(len(pairs) / max(fold_seconds, 0.05)),
        "runs": runs,
        "ratios": ratios(runs),
        "cpu_ratios": cpu_ratios(runs),
        "machine_cpu_ratios": machine_cpu_ratios(runs),
        "cpu_ceilings": cpu_ceilings(runs, os.cpu_count() or 1),
    }


async def what_if(
    variant: str, env: dict[str, str], port: int, jobs: list[dict[str, str]], args: argparse.Namespace, auth: Any
) -> list[dict[str, Any]]:
    """The what-if at the most clients, then at each rate."""
    process = start_what_if(variant, env, port, BENCH / "results" / f"verification_write_{variant}.log")
    client = Client(port, auth)
    try:
        await wait_until_up(port, "/health", {}, lambda _: True)
        first = date(2026, 3, 1) + timedelta(days=60 * sorted(WHAT_IFS).index(variant))  # after the rows' dates
        await drive(client, job_requests(jobs, 200, first), 4, what="warm-up", pid=process.pid)
        calls = job_requests(jobs, args.requests, first + timedelta(days=30))
        runs = [await drive(client, calls, max(args.clients_list), what=WHAT_IFS[variant], pid=process.pid)]
        for rate in args.rates:
            calls = job_requests(jobs, int(rate * args.rate_seconds), first + timedelta(days=40))
            runs.append(await drive_at_rate(client, calls, rate, what=WHAT_IFS[variant], pid=process.pid))
        return runs
    finally:
        await client.close()
        process.terminate()
        process.wait(30)


def ratios(runs: list[dict[str, Any]]) -> dict[str, float]:
    """`POST /jobs` ÷ the baseline, row by row (same clients or rate, run right after each other)."""
    ours = {run["clients"]: run for run in runs if run["what"] == "POST /jobs"}
    plain = {run["clients"]: run for run in runs if run["what"] == "baseline POST"}
    return {
        str(key): round(ours[key]["commands_per_second"] / plain[key]["commands_per_second"], 2)
        for key in ours
        if key in plain
    }


def cpu_ratios(runs: list[dict[str, Any]]) -> dict[str, float]:
    """The baseline's server CPU per request ÷ the service's, row by row: the ratio of throughput a server bound by
    its CPU would reach. On a shared machine it moves less than the throughputs' ratio (BENCHMARKS.md, 12-03)."""
    return _cost_ratios(runs, lambda run: float(run["server_cpu_ms_per_request"]))


def machine_cpu_ratios(runs: list[dict[str, Any]]) -> dict[str, float]:
    """As `cpu_ratios`, with PostgreSQL's CPU per request added on both sides: on one machine the database's work
    takes cores from the service's, so this is the ratio a machine bound by its CPU would reach."""
    return _cost_ratios(runs, _machine_cpu)


def _cost_ratios(runs: list[dict[str, Any]], cost: Callable[[dict[str, Any]], float]) -> dict[str, float]:
    """The baseline's cost per request ÷ the service's, row by row (same clients or rate)."""
    ours = {run["clients"]: run for run in runs if run["what"] == "POST /jobs"}
    plain = {run["clients"]: run for run in runs if run["what"] == "baseline POST"}
    return {
        str(key): round(cost(plain[key]) / cost(ours[key]), 2) for key in ours if key in plain and cost(ours[key]) > 0
    }


def cpu_ceilings(runs: list[dict[str, Any]], cores: int) -> dict[str, float]:
    """The jobs/s `POST /jobs` would reach were every core of the machine spent on the service and PostgreSQL at
    the CPU per job measured: what the throughput cannot exceed here, whatever the concurrency."""
    return {
        str(run["clients"]): round(cores * 1000 / _machine_cpu(run), 1)
        for run in runs
        if run["what"] == "POST /jobs" and isinstance(run["clients"], int) and _machine_cpu(run) > 0
    }


def _machine_cpu(run: dict[str, Any]) -> float:
    return float(run["server_cpu_ms_per_request"] + run["postgres_cpu_ms_per_request"])


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
    parser.add_argument("--requests", type=int, default=2000, help="jobs per closed-loop row")
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4, 16], dest="clients_list")
    parser.add_argument("--rate", type=float, nargs="*", default=[], dest="rates", help="open-loop rows, requests/s")
    parser.add_argument("--rate-seconds", type=float, default=20.0, help="length of each open-loop row")
    parser.add_argument(
        "--shape", choices=["run", "split"], default="run", help="one `run` process, or `serve` + `relay` + `consume`"
    )
    parser.add_argument("--no-peers", action="store_true", help="skip the GET /health and GET /jobs/{id} peers")
    parser.add_argument(
        "--what-if", nargs="*", default=[], dest="what_ifs", choices=sorted(WHAT_IFS), help="what-if rows (max clients)"
    )
    parser.add_argument("--serve-baseline", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--serve-what-if", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    return parser.parse_args()


def report(outcome: dict[str, Any]) -> None:
    print(f"shape: {outcome['shape']}")
    print(f"machine: {outcome['machine']}, load before {outcome['load_before']}, after {outcome['load_after']}")
    fold = f"folded in {outcome['replica_fold_seconds']} s: {outcome['replica_events_per_second']} events/s"
    print(f"registry: {outcome['registry']}, replica caught up in {outcome['replica_catch_up_seconds']} s ({fold})")
    print(f"{'what':<52} {'clients':>8} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'cpu ms':>7} {'pg ms':>6} {'load':>6} {'new conns':>9}  failures")  # fmt: skip
    for run in outcome["runs"]:
        print(f"{run['what']:<52} {run['clients']:>8} {run['requests']:>9} {run['commands_per_second']:>8} "
              f"{run['p50_ms']:>8} {run['p95_ms']:>8} {run['p99_ms']:>8} {run['server_cpu_ms_per_request']:>7} "
              f"{run['postgres_cpu_ms_per_request']:>6} {run['load_1min']:>6} {run.get('backends_opened', '-'):>9}  "
              f"{run['failures'] or '-'}")  # fmt: skip
    print(f"POST /jobs ÷ baseline: {outcome['ratios']}")
    print(f"baseline's CPU per request ÷ POST /jobs': {outcome['cpu_ratios']}")
    print(f"... counting PostgreSQL's CPU too: {outcome['machine_cpu_ratios']}")
    for clients, ceiling in outcome["cpu_ceilings"].items():
        print(f"POST /jobs at {clients} clients, were the {outcome['machine']['cpus']} cores all its: {ceiling} jobs/s")


if __name__ == "__main__":
    arguments = parse()
    if arguments.serve_baseline:
        serve_baseline(arguments.pg_url, arguments.port)
        sys.exit(0)
    if arguments.serve_what_if:
        serve_what_if(arguments.serve_what_if, arguments.port)
        sys.exit(0)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    outcome = asyncio.run(main(arguments))
    (BENCH / "results" / "verification_write.json").write_text(json.dumps(outcome, indent=2, default=str))
    report(outcome)
