"""Shared helpers for the eventkit benchmarks: the benchmark event, servers, scratch databases and topics,
machine facts, and the result table and JSON file every script ends with."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, date, datetime
from importlib import metadata as package_metadata
from pathlib import Path
from typing import Any

import asyncpg

from metrology.eventkit.envelope import Envelope, EventContext
from metrology.eventkit.events import DomainEvent, EventRegistry

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
DEFAULT_PG_URL = "postgresql://metrology:metrology@127.0.0.1:55432/metrology"
DEFAULT_KAFKA = "127.0.0.1:9092"
SOURCE = "/metrology/bench"
CONTEXT = EventContext(tenant="83", correlation_id="9f0c6c1e-0000-4000-8000-000000000000")


class ReadingTaken(DomainEvent):
    """A reading was taken on an instrument (the benchmark's only event type)."""

    event_type = "vn.metrology.bench.reading-taken"
    instrument: str
    value: int


def registry() -> EventRegistry:
    return EventRegistry().register_all([ReadingTaken])


def reading(i: int) -> ReadingTaken:
    return ReadingTaken(occurred_on=date(2025, 3, 1), instrument=f"inst-{i % 10_000:05d}", value=i)


def envelope_bytes(stream_id: str = "bench-00000000", version: int = 1) -> bytes:
    """The stored (and published) bytes of one benchmark event: a CloudEvents JSON record."""
    return Envelope.wrap(
        reading(version), source=SOURCE, stream_id=stream_id, stream_version=version, context=CONTEXT
    ).to_json()


def envelope_records(count: int, streams: int = 1000) -> Iterator[tuple[str, str, int, bytes]]:
    """(event id, stream id, stream version, stored bytes) of `count` distinct events, spread over `streams`.

    One real envelope serves as the template and only its id, stream and version change, so that filling a
    store or a topic with 200,000 events takes seconds rather than the ~70 µs per event of `Envelope.to_json`.
    """
    template = json.loads(envelope_bytes())
    for i in range(count):
        stream_id, version = f"bench-{i % streams:08d}", i // streams + 1
        event_id = str(uuid.uuid4())
        fields = template | {"id": event_id, "subject": stream_id, "streamid": stream_id, "streamversion": version}
        fields["data"] = template["data"] | {"value": i}
        yield event_id, stream_id, version, json.dumps(fields).encode()


EVENT_TYPE = ReadingTaken.type_name()


# --- command line ---------------------------------------------------------------------------------------------


def arguments(description: str, add: Any = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke check in well under a minute")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("METROLOGY_BENCH_PG_URL") or os.environ.get("METROLOGY_TEST_PG_URL") or DEFAULT_PG_URL,
        help="an account that may CREATE DATABASE (scratch databases are created and dropped)",
    )
    parser.add_argument("--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_KAFKA))
    if add:
        add(parser)
    return parser.parse_args()


# --- servers ----------------------------------------------------------------------------------------------------


def reachable(host_port: str) -> bool:
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1):
            return True
    except OSError:
        return False


def ensure_postgres(url: str) -> None:
    if reachable(url.split("@")[-1].split("/")[0]):
        return
    script = REPO / "scripts" / "infra" / "postgres.sh"
    if not script.exists():
        sys.exit(f"PostgreSQL is not reachable at {url} and {script} is missing")
    subprocess.run(["bash", str(script), "start"], check=True)


def ensure_kafka(bootstrap: str) -> None:
    if not reachable(bootstrap.split(",")[0]):
        subprocess.run(["bash", str(REPO / "scripts" / "infra" / "kafka.sh"), "start"], check=True)


@contextlib.asynccontextmanager
async def scratch_database(admin_url: str, prefix: str) -> AsyncIterator[str]:
    """A new, empty database on the server of `admin_url`, dropped afterwards; yields its URL."""
    name = f"bench_{prefix}_{uuid.uuid4().hex[:8]}"
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()


@contextlib.contextmanager
def scratch_topic(bootstrap: str, prefix: str, partitions: int = 3) -> Iterator[str]:
    """A new topic (the services' default of 3 partitions), deleted afterwards with the topics named after it (the
    dead-letter topic a projector made for it)."""
    from kafka.admin import KafkaAdminClient, NewTopic

    from metrology.testkit.infra import delete_topics_beginning_with

    name = f"bench.{prefix}.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="metrology-bench")
    try:
        admin.create_topics([NewTopic(name, partitions, 1)])
        _wait_for_topic(admin, name)
        yield name
    finally:
        admin.close()
        with contextlib.suppress(Exception):
            delete_topics_beginning_with(bootstrap, [name])


def topic_size(bootstrap: str, topic: str) -> int:
    """How many records the topic holds (the sum of its partitions' end offsets)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap.split(","), client_id="metrology-bench")
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values())
    finally:
        consumer.close()


def _wait_for_topic(admin: Any, name: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        described = admin.describe_topics([name])
        if described and not described[0].get("error_code") and described[0].get("partitions"):
            return
        time.sleep(0.1)
    raise TimeoutError(f"topic {name} did not appear")


# --- Kafka's own performance tools ----------------------------------------------------------------------------


def kafka_libs() -> Path:
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "infra" / "kafka.sh"), "classpath"], check=True, capture_output=True, text=True
    )
    return Path(out.stdout.strip().splitlines()[-1])


def kafka_version(libs: Path) -> str:
    for jar in libs.glob("kafka_2.13-*.jar"):
        return jar.name.removeprefix("kafka_2.13-").removesuffix(".jar")
    return "unknown"


def run_kafka_tool(main_class: str, args: Sequence[str], timeout: float = 300) -> str:
    command = ["java", "-Xmx512m", "-cp", f"{kafka_libs()}/*", main_class, *args]
    out = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{main_class} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out.stdout


# --- machine facts ------------------------------------------------------------------------------------------------


async def machine(pg_url: str | None = None, kafka: bool = False) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "memory_gib": round(_mem_total_kib() / 1024 / 1024, 1),
        "load_before": _loadavg(),
        "python": platform.python_version(),
        "commit": _git("rev-parse", "--short", "HEAD"),
        "eventkit_uncommitted_changes": bool(_git("status", "--porcelain", "libs/eventkit")),
        "packages": _versions(
            ["sqlalchemy", "asyncpg", "aiosqlite", "aiokafka", "faststream", "eventsourcing", "psycopg", "cloudevents"]
        ),
    }
    if pg_url:
        connection = await asyncpg.connect(pg_url)
        try:
            facts["postgresql"] = await connection.fetchval("SHOW server_version")
            facts["postgresql_settings"] = {
                name: await connection.fetchval(f"SHOW {name}")
                for name in ("shared_buffers", "synchronous_commit", "fsync", "max_connections")
            }
        finally:
            await connection.close()
    if kafka:
        facts["kafka"] = kafka_version(kafka_libs())
    return facts


def _git(*args: str) -> str:
    out = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)
    return out.stdout.strip()


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def _mem_total_kib() -> int:
    with contextlib.suppress(OSError):
        match = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        if match:
            return int(match.group(1))
    return 0


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _versions(names: Sequence[str]) -> dict[str, str]:
    found = {}
    for name in names:
        with contextlib.suppress(package_metadata.PackageNotFoundError):
            found[name] = package_metadata.version(name)
    return found


# --- output ---------------------------------------------------------------------------------------------------


class Stopwatch:
    """Wall time, and the CPU time this process (all its threads) used meanwhile."""

    def __enter__(self) -> Stopwatch:
        self.started, self.started_cpu = time.perf_counter(), time.process_time()
        self.seconds = self.cpu = 0.0
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.started
        self.cpu = time.process_time() - self.started_cpu

    def cpu_us_per(self, count: int) -> float:
        """Client CPU per item in µs: robust to a busy machine, unlike the rate."""
        return round(self.cpu / count * 1e6, 1) if count else 0.0


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def measured(events: int, clock: Stopwatch, seconds: float | None = None) -> dict[str, Any]:
    """The common columns of a result row; `seconds` overrides the stopwatch's wall time."""
    seconds = clock.seconds if seconds is None else seconds
    return {
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_s": round(rate(events, seconds)),
        "cpu_us_per_event": clock.cpu_us_per(events),
    }


def print_table(title: str, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)]
    print(f"\n{title}")
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in zip(r, widths, strict=True)))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[-\d.,]+×?", text))


def write_results(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "command": " ".join([".venv/bin/python", *_relative_argv()]), **payload}
    payload.setdefault("load_after", _loadavg())
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"\nwrote {path.relative_to(REPO)}")
    return path


def _relative_argv() -> list[str]:
    first = Path(sys.argv[0]).resolve()
    with contextlib.suppress(ValueError):
        return [str(first.relative_to(REPO)), *sys.argv[1:]]
    return sys.argv
