"""Reporting at 1,000,000 events: publish a catalogue-shaped log, rebuild the KPI read model with the real CLI,
time every KPI endpoint and the plan progress over HTTP, and read the same topics with Kafka's own
ConsumerPerformance as the physical limit.

    .venv/bin/python bench/reporting_million.py --events 1000000
    .venv/bin/python bench/reporting_million.py --events 100000 --requests 50

Needs the Kafka broker (127.0.0.1:9092) and PostgreSQL (127.0.0.1:55432) of scripts/infra, and java for
ConsumerPerformance. The topics get a prefix of their own and the read model a fresh database; both are dropped
at the end (`--keep` leaves them). Results go to bench/results/reporting_million.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.ids import new_id
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.testkit import infra

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results" / "reporting_million.json"
CLI = str(REPO / ".venv" / "bin" / "metrology-reporting")
SERVICES = ("registry", "verification", "outreach", "training")
PLAN = "ben-tre-996-2021"
METRICS = ("demand-coverage", "socialised-providers", "person-times-trained", "enterprise-times", "accredited-labs")
START = date(2021, 8, 1)
END = date(2025, 12, 31)
DAYS = (END - START).days
NOW = datetime.now(UTC)
TYPES = ["2.6", "2.7", "2.4", "2.5", "2.1", "2.12"]
PROVINCE, ELSEWHERE = "83", "79"


# --- the log ---------------------------------------------------------------------------------------------------


class Log:
    """Builds catalogue-shaped envelopes (the same shapes as tests/e2e/test_reporting_from_kafka.py)."""

    def __init__(self, total: int, seed: int = 7, ids: str = "v7", entity_ids: str = "v7") -> None:
        self.total = total
        # event ids as the platform makes them (version 7, in the order made), or version 4 for a comparison
        self.new_id = _id_maker(ids)
        # entity ids (jobs, instruments, trainees, ...): the log names them shortly ("j12", "i7"); each short name
        # stands for a UUID made when the entity first appears, as the services make them, unless kept short
        self.new_entity_id = None if entity_ids == "short" else _id_maker(entity_ids)
        self.entities: dict[str, str] = {}
        self.rng = random.Random(seed)
        self.count = 0

    def entity(self, short: str) -> str:
        if self.new_entity_id is None:
            return short
        named = self.entities.get(short)
        if named is None:
            named = self.entities[short] = self.new_entity_id()
        return named

    def day(self, after: date = START) -> date:
        span = (END - after).days
        return after + timedelta(days=self.rng.randrange(span + 1)) if span > 0 else END

    def envelope(self, service: str, type_: str, stream: str, occurred_on: date | str, **data: Any) -> Envelope:
        self.count += 1
        kind, short = stream.split("-", 1)
        stream = f"{kind}-{self.entity(short)}"
        data = {k: self.entity(v) if k.endswith("_id") else v for k, v in data.items()}
        return Envelope(
            id=self.new_id(),
            type=f"vn.metrology.{service}.{type_}.v1",
            source=f"/metrology/{service}",
            time=NOW,
            stream_id=stream,
            stream_version=1,
            tenant="83",
            correlation_id="bench",
            subject=stream,
            data={"occurred_on": str(occurred_on), **{k: _plain(v) for k, v in data.items()}},
        )

    def events(self):
        """About 0.5 % enterprises (+ enrolments), a few hundred providers/designations/labs, 10 % instrument
        registrations (1 % retired), 30 % verification work with 25 % certificates, 8 % programme accesses
        (a quarter of them the saga's access for a job), the rest training completions (one in nine failed; a
        course's 40 trainees complete it within three days, as the training service records a course's end)."""
        n, rng = self.total, self.rng
        enterprises = max(10, n // 400)
        instruments = max(20, n // 10)
        providers, labs = 40, 60
        for e in range(enterprises):
            commune = f"{28700 + e % 60}"
            yield "registry", self.envelope(
                "registry", "enterprise-registered", f"enterprise-e{e}", "2021-01-01",
                enterprise_id=f"e{e}", sector=f"s{e % 7}", province_code=PROVINCE, commune_code=commune,
            )  # fmt: skip
            enrolled = self.day()
            yield "outreach", self.envelope(
                "outreach", "enterprise-enrolled", f"participation-pa{e}", enrolled,
                participation_id=f"pa{e}", enterprise_id=f"e{e}",
            )  # fmt: skip
            if e % 10 == 0:
                yield "outreach", self.envelope(
                    "outreach", "enterprise-withdrawn", f"participation-pa{e}", self.day(enrolled),
                    participation_id=f"pa{e}", enterprise_id=f"e{e}",
                )  # fmt: skip
        for p in range(providers):
            local = p < 30
            yield "registry", self.envelope(
                "registry", "provider-registered", f"provider-p{p}", "2021-01-01", provider_id=f"p{p}",
                name=f"Provider {p}", ownership="socialised" if p % 2 else "state",
                province_code=PROVINCE if local else ELSEWHERE,
            )  # fmt: skip
            valid_from = START + timedelta(days=rng.randrange(400))
            until = valid_from + timedelta(days=365 * 3)
            yield "registry", self.envelope(
                "registry", "provider-designated", f"provider-p{p}", valid_from, provider_id=f"p{p}",
                designation_id=f"d{p}", instrument_types=TYPES[: 1 + p % len(TYPES)],
                valid_from=valid_from, valid_until=until,
            )  # fmt: skip
            if p % 3 == 0:
                yield "registry", self.envelope(
                    "registry", "designation-renewed", f"provider-p{p}", until - timedelta(days=30),
                    provider_id=f"p{p}", designation_id=f"d{p}", valid_until=until + timedelta(days=365 * 3),
                )  # fmt: skip
            elif p % 7 == 0:
                yield "registry", self.envelope(
                    "registry", "designation-revoked", f"provider-p{p}", self.day(valid_from),
                    provider_id=f"p{p}", designation_id=f"d{p}",
                )  # fmt: skip
        for lab in range(labs):
            commune = "28756" if lab % 3 == 0 else f"{28700 + lab % 60}"
            yield "registry", self.envelope(
                "registry", "laboratory-registered", f"laboratory-l{lab}", "2021-01-01",
                laboratory_id=f"l{lab}", name=f"Lab {lab}", province_code=PROVINCE, commune_code=commune,
            )  # fmt: skip
            accredited = self.day()
            yield "registry", self.envelope(
                "registry", "laboratory-accredited", f"laboratory-l{lab}", accredited, laboratory_id=f"l{lab}",
                accreditation_number=f"VILAS {lab}", valid_from=accredited,
                valid_until=accredited + timedelta(days=5 * 365),
            )  # fmt: skip
            yield "registry", self.envelope(
                "registry", "laboratory-assessed", f"laboratory-l{lab}", self.day(accredited),
                laboratory_id=f"l{lab}", criteria="TCVN 13187:2020", passed=lab % 4 != 0,
            )  # fmt: skip
        registered: list[date] = []
        for i in range(instruments):
            on = self.day()
            registered.append(on)
            yield "registry", self.envelope(
                "registry", "instrument-registered", f"instrument-i{i}", on, instrument_id=f"i{i}",
                type_code=TYPES[i % len(TYPES)], owner_enterprise_id=f"e{i % enterprises}",
                province_code=PROVINCE, commune_code=f"{28700 + i % 60}",
            )  # fmt: skip
            if i % 100 == 0:
                yield "registry", self.envelope(
                    "registry", "instrument-status-changed", f"instrument-i{i}", self.day(on),
                    instrument_id=f"i{i}", status="retired",
                )  # fmt: skip
        jobs = int(n * 0.3)
        for j in range(jobs):
            i = rng.randrange(instruments)
            when = self.day(registered[i])
            p = rng.randrange(providers)
            passed = j % 10 != 0
            kind = "verification" if j % 20 else rng.choice(["calibration", "testing"])
            yield "verification", self.envelope(
                "verification", "work-recorded", f"job-j{j}", when, job_id=f"j{j}", kind=kind,
                subject="instrument", subject_id=f"i{i}", type_code=TYPES[i % len(TYPES)],
                owner_enterprise_id=f"e{i % enterprises}", provider_id=f"p{p}",
                provider_province_code=PROVINCE if p < 30 else ELSEWHERE, result="pass" if passed else "fail",
            )  # fmt: skip
            if passed and kind == "verification" and j % 6:
                yield "verification", self.envelope(
                    "verification", "certificate-issued", f"job-j{j}", when, job_id=f"j{j}",
                    subject_id=f"i{i}", valid_until=min(when + timedelta(days=365), date(2030, 1, 1)),
                )  # fmt: skip
            if j % 40 == 0:  # the outreach saga records an access for some jobs: the same job, counted once
                yield "outreach", self.envelope(
                    "outreach", "access-recorded", f"participation-pa{i % enterprises}", when,
                    access_id=f"saga-{j}", participation_id=f"pa{i % enterprises}",
                    enterprise_id=f"e{i % enterprises}", channel=kind, source_job_id=f"j{j}",
                )  # fmt: skip
        for a in range(int(n * 0.08)):
            e = rng.randrange(enterprises)
            yield "outreach", self.envelope(
                "outreach", "access-recorded", f"participation-pa{e}", self.day(), access_id=f"a{a}",
                participation_id=f"pa{e}", enterprise_id=f"e{e}", channel=rng.choice(["method", "consultation"]),
            )  # fmt: skip
        c = 0
        while self.count < n:
            if c % 40 == 0:  # a course of 40 trainees, who complete it on one of its last three days
                ends = self.day()
            completed = min(END, ends + timedelta(days=rng.randrange(3)))
            yield "training", self.envelope(
                "training", "trainee-completed", f"course-c{c // 40}", completed, course_id=f"c{c // 40}",
                trainee_id=f"t{rng.randrange(max(1, n // 8))}", passed=c % 9 != 0,
            )  # fmt: skip
            c += 1


def _id_maker(version: str) -> Callable[[], str]:
    return new_id if version == "v7" else (lambda: str(uuid.uuid4()))


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def topic(prefix: str, service: str) -> str:
    return f"{prefix}metrology.{service}.v1"


async def publish(
    servers: str, prefix: str, total: int, partitions: int, ids: str, entity_ids: str
) -> tuple[Counter[str], Counter[str], float]:
    ensure_topics(
        KafkaConnection(bootstrap_servers=servers), [TopicSpec(topic(prefix, s), partitions, 1) for s in SERVICES]
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=servers, linger_ms=50, max_batch_size=1024 * 1024, acks="all", max_request_size=8 << 20
    )
    await producer.start()
    per_topic: Counter[str] = Counter()
    per_type: Counter[str] = Counter()
    started = time.monotonic()
    try:
        pending = []
        for service, env in Log(total, ids=ids, entity_ids=entity_ids).events():
            name = topic(prefix, service)
            key, value, headers = env.to_kafka()  # CloudEvents binary mode, the record the relay publishes
            pending.append(await producer.send(name, value, key=key, headers=headers))
            per_topic[name] += 1
            per_type[env.type.split(".")[3]] += 1
            if len(pending) >= 20000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return per_topic, per_type, time.monotonic() - started


async def delete_topics(servers: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        await admin.delete_topics(names)
    finally:
        await admin.close()


# --- measurements ----------------------------------------------------------------------------------------------


class LoadSampler:
    """The 1-minute load average every 2 s while a phase runs."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(float(Path("/proc/loadavg").read_text().split()[0]))
            self._stop.wait(2)

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict[str, float]:
        s = self.samples or [0.0]
        return {"mean": round(statistics.fmean(s), 2), "max": round(max(s), 2)}


def consumer_performance(servers: str, per_topic: Counter[str]) -> dict[str, Any]:
    """Kafka's own consumer reading the same topics, one after the other (the physical limit)."""
    classpath = subprocess.run(
        ["bash", str(REPO / "scripts/infra/kafka.sh"), "classpath"], capture_output=True, text=True, check=True
    ).stdout.strip()
    java = shutil.which("java") or "java"
    total_messages, total_seconds, rows = 0, 0.0, {}
    for name, count in per_topic.items():
        command = [
            java, "-cp", f"{classpath}/*", "org.apache.kafka.tools.ConsumerPerformance",
            "--bootstrap-server", servers, "--topic", name, "--messages", str(count), "--timeout", "60000",
        ]  # fmt: skip
        started = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, timeout=600)
        wall = time.monotonic() - started
        lines = [line for line in done.stdout.splitlines() if line.strip()]
        header, values = lines[-2].split(","), lines[-1].split(",")
        row = {k.strip(): v.strip() for k, v in zip(header, values, strict=False)}
        messages = int(float(row["data.consumed.in.nMsg"]))
        fetch_ms = float(row.get("fetch.time.ms", "0") or 0)
        seconds = fetch_ms / 1000 if fetch_ms > 0 else wall
        rows[name] = {"messages": messages, "fetch_s": round(seconds, 2), "wall_s": round(wall, 2), "raw": row}
        total_messages += messages
        total_seconds += seconds
    return {
        "messages": total_messages,
        "seconds": round(total_seconds, 2),
        "rate": round(total_messages / total_seconds) if total_seconds else 0,
        "topics": rows,
    }


def rebuild(env: dict[str, str], batch_size: int, workers: int = 1) -> dict[str, Any]:
    started = time.monotonic()
    command = [CLI, "rebuild", "--batch-size", str(batch_size), "--workers", str(workers)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=7200)
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"rebuild failed ({done.returncode}):\n{done.stderr[-4000:]}")
    found = re.search(r"rebuilt (\d+) events in ([\d.]+)s", done.stdout)
    assert found, done.stdout
    events, seconds = int(found.group(1)), float(found.group(2))
    finishing = re.search(r"; ([\d.]+)s of it after the last record", done.stdout)
    return {
        "events": events,
        "replay_s": seconds,
        "derivations_s": float(finishing.group(1)) if finishing else 0.0,
        "rate": round(events / seconds),
        "process_wall_s": round(wall, 1),
        "stdout": done.stdout.strip().splitlines(),
    }


def serve(
    env: dict[str, str], port: int, log: Path, *, cli: str = CLI, command: str = "serve", timeout: float = 60.0
) -> subprocess.Popen[bytes]:
    """`<cli> <command>` on `port`, once its `/ready` answers 200 (the log's tail if it exits or never does)."""
    process = subprocess.Popen(
        [cli, command, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{cli} exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise TimeoutError(log.read_text()[-3000:])


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1] if len(samples) > 1 else samples[0]


def time_requests(client: httpx.Client, path: str, dates: list[date]) -> dict[str, Any]:
    """First requests: each distinct as_of once (nothing cached for it yet). Repeated: all of `dates` again,
    same answers asked for a second time with no batch in between (the cache answers them)."""
    bodies: dict[date, bytes] = {}

    def one(day: date) -> float:
        started = time.perf_counter()
        response = client.get(path, params={"as_of": day.isoformat()})
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        if bodies.setdefault(day, response.content) != response.content:
            raise AssertionError(f"{path} as of {day}: a repeated request answered differently")
        return elapsed * 1000

    first = [one(day) for day in dict.fromkeys(dates)]
    repeated = [one(day) for day in dates]
    return {"first": _stats(first), "repeated": _stats(repeated)}


def _stats(ms: list[float]) -> dict[str, Any]:
    return {
        "requests": len(ms),
        "first_ms": round(ms[0], 1),
        "p50_ms": round(statistics.median(ms), 1),
        "p99_ms": round(percentile(ms, 99), 1),
        "max_ms": round(max(ms), 1),
    }


async def compare_concurrency(url: str, dates: list[date]) -> dict[str, Any]:
    """The progress computation without the cache, with the service's engine settings: targets one after another
    on one connection, or spread over two connections (the service's `REPORTING_PROGRESS_LANES`). Each date is
    computed both ways; which goes first alternates, so neither always gets the buffer cache the other warmed."""
    from metrology.eventkit.database import create_engine, plan_each_execution
    from metrology.reporting.adapters.plan_files import load_plans
    from metrology.reporting.application.progress import plan_progress_concurrently

    plan = next(p for p in load_plans([]) if p.id == PLAN)
    engine = create_engine(url)
    plan_each_execution(engine)
    timings: dict[str, list[float]] = {"sequential": [], "lanes_2": []}
    try:
        for i, day in enumerate(dict.fromkeys(dates)):
            pages = {}
            async with engine.connect() as connection:
                for way in ("sequential", "lanes_2") if i % 2 == 0 else ("lanes_2", "sequential"):
                    started = time.perf_counter()
                    lanes = 1 if way == "sequential" else 2
                    pages[way] = await plan_progress_concurrently(engine, connection, plan, day, lanes=lanes)
                    timings[way].append((time.perf_counter() - started) * 1000)
            if [r.reading.value for r in pages["sequential"]] != [r.reading.value for r in pages["lanes_2"]]:
                raise AssertionError(f"as of {day}: two lanes gave other values")
    finally:
        await engine.dispose()
    return {way: _stats(ms) for way, ms in timings.items()}


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    memory_kb = int(
        next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "date_utc": subprocess.run(["date", "-u"], capture_output=True, text=True).stdout.strip(),
        "python": sys.version.split()[0],
    }


# --- the run ---------------------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> dict[str, Any]:
    servers, admin = infra.kafka_bootstrap(), infra.postgres_url()
    prefix = args.prefix or f"benchrep{uuid.uuid4().hex[:6]}."
    result: dict[str, Any] = {"command": " ".join([".venv/bin/python", *sys.argv]), "machine": machine()}
    result["prefix"] = prefix
    print(f"machine: {result['machine']}", flush=True)

    with LoadSampler() as load:
        if args.prefix:
            per_topic, per_type, seconds = Counter(json.loads(args.topic_counts)), Counter[str](), 0.0
        else:
            per_topic, per_type, seconds = await publish(
                servers, prefix, args.events, args.partitions, args.ids, args.entity_ids
            )
    total = sum(per_topic.values())
    result["publish"] = {
        "events": total,
        "seconds": round(seconds, 1),
        "rate": round(total / seconds) if seconds else None,
        "per_topic": dict(per_topic),
        "per_type": dict(per_type),
        "load": load.summary(),
    }
    print(f"published: {json.dumps(result['publish'])}", flush=True)

    with LoadSampler() as load:
        result["consumer_performance"] = consumer_performance(servers, per_topic)
    result["consumer_performance"]["load"] = load.summary()
    limit = result["consumer_performance"]
    print(f"ConsumerPerformance: {limit['messages']:,} in {limit['seconds']}s ({limit['rate']:,}/s)", flush=True)

    url = await infra.create_database(admin, prefix="bench_reporting")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METROLOGY_", "REPORTING_", "KAFKA_"))}
    env |= {
        "KAFKA_BOOTSTRAP_SERVERS": servers,
        "KAFKA_TOPIC_PREFIX": prefix,
        "REPORTING_DATABASE_URL": url,
        "REPORTING_EVALUATION_DATE": "2025-12-31",
        "TENANT": "83",
        "LOG_LEVEL": "WARNING",
        "ENVIRONMENT": "development",  # development tokens and keys, as verification_write.py runs its service
    }
    server = None
    try:
        with LoadSampler() as load:
            result["rebuild"] = rebuild(env, args.batch_size, args.workers)
        result["rebuild"]["load"] = load.summary()
        result["rebuild"]["vs_consumer_performance"] = round(
            result["rebuild"]["rate"] / result["consumer_performance"]["rate"], 4
        )
        print(f"rebuild: {json.dumps({k: v for k, v in result['rebuild'].items() if k != 'stdout'})}", flush=True)

        port = 18000 + random.randrange(1000)
        server = serve(env, port, Path(f"/tmp/{prefix}serve.log"))
        rng = random.Random(1)
        kpi_dates = [START + timedelta(days=rng.randrange(DAYS + 1)) for _ in range(args.requests)]
        month_ends = [date(2025, m, 28) + timedelta(days=4) for m in range(1, 12)]
        progress_dates = [(d.replace(day=1) - timedelta(days=1)) for d in month_ends] + [END]
        progress_dates = [progress_dates[i % len(progress_dates)] for i in range(args.progress_requests)]
        queries: dict[str, Any] = {}
        with LoadSampler() as load, httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
            for metric in METRICS:
                queries[f"/kpis/{metric}"] = time_requests(client, f"/kpis/{metric}", kpi_dates)
                print(f"  /kpis/{metric}: {queries[f'/kpis/{metric}']}", flush=True)
            path = f"/plans/{PLAN}/progress"
            queries[path] = time_requests(client, path, progress_dates)
            print(f"  {path}: {queries[path]}", flush=True)
        result["queries"] = queries
        result["queries_load"] = load.summary()
        with LoadSampler() as load:
            result["progress_concurrency"] = await compare_concurrency(url, progress_dates)
        result["progress_concurrency"]["load"] = load.summary()
        print(f"  progress without cache: {json.dumps(result['progress_concurrency'])}", flush=True)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            await infra.drop_database(admin, url)
            if not args.prefix:
                await delete_topics(servers, list(per_topic))
        else:
            result["database_url"] = url
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="requests per KPI endpoint")
    parser.add_argument("--progress-requests", type=int, default=200, help="requests of the plan progress")
    parser.add_argument("--batch-size", type=int, default=2000, help="records per rebuild transaction")
    parser.add_argument("--workers", type=int, default=1, help="rebuild processes (`rebuild --workers`)")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument(
        "--ids", choices=["v7", "v4"], default="v7", help="event ids: version 7 (as the platform makes them) or 4"
    )
    parser.add_argument(
        "--entity-ids",
        choices=["v7", "v4", "short"],
        default="v7",
        help="entity ids: version 7 (as the services make them), 4 (as they made them before), or short names",
    )
    parser.add_argument("--keep", action="store_true", help="leave the topics and the database")
    parser.add_argument("--prefix", help="reuse topics published by an earlier --keep run (skips publishing)")
    parser.add_argument("--topic-counts", default="{}", help="with --prefix: JSON {topic: messages}")
    arguments = parser.parse_args()
    outcome = asyncio.run(main(arguments))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(outcome, indent=2, default=str))
    print(f"results: {RESULTS}")
