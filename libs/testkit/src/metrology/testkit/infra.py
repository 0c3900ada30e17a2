"""Find (or start, with the project's scripts) the Kafka broker and PostgreSQL server the tests use."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from collections.abc import Iterable
from pathlib import Path

import asyncpg
from kafka import KafkaAdminClient

REPO = Path(__file__).resolve().parents[5]
DEFAULT_PG_URL = "postgresql://metrology:metrology@127.0.0.1:55432/metrology"


def kafka_servers() -> str:
    """The broker the tests use, as configured (started or not)."""
    return os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")


def kafka_bootstrap() -> str:
    servers = kafka_servers()
    if not _reachable(servers.split(",")[0]):
        _run_script("kafka.sh")
    return servers


def postgres_url() -> str:
    url = os.environ.get("METROLOGY_TEST_PG_URL", DEFAULT_PG_URL)
    host_port = url.split("@")[-1].split("/")[0]
    if not _reachable(host_port):
        _run_script("postgres.sh")
    return url


async def create_database(admin_url: str, prefix: str = "t") -> str:
    """A new, empty database on the test server; returns its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


async def drop_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


# The topic names and prefixes this test process made (`unique_topic`, `topic_prefix`): the plugin deletes the topics
# they name at the session's end, so that a developer's broker does not keep a thousand topics per test run.
_MADE_TOPICS: set[str] = set()


def unique_topic(prefix: str = "test") -> str:
    """A topic name of its own (its DLQ and other topics named after it included in the deletion)."""
    name = f"{prefix}.{uuid.uuid4().hex[:10]}"
    _MADE_TOPICS.add(name)
    return name


def topic_prefix(kind: str = "t") -> str:
    """A topic prefix of its own, `<kind><8 hex digits>.`, for services started with `KAFKA_TOPIC_PREFIX`."""
    prefix = f"{kind}{uuid.uuid4().hex[:8]}."
    _MADE_TOPICS.add(prefix)
    return prefix


def made_topics() -> frozenset[str]:
    """The topic names and prefixes made so far by `unique_topic` and `topic_prefix` in this process."""
    return frozenset(_MADE_TOPICS)


def delete_topics_beginning_with(bootstrap: str, beginnings: Iterable[str]) -> int:
    """Delete the broker's topics whose names begin with one of `beginnings`, and no other; returns how many."""
    wanted = tuple(beginnings)
    if not wanted:
        return 0
    admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="metrology-tests")
    try:
        doomed = sorted(topic for topic in admin.list_topics() if topic.startswith(wanted))
        for start in range(0, len(doomed), 100):
            admin.delete_topics(doomed[start : start + 100], timeout_ms=30_000)
        return len(doomed)
    finally:
        admin.close()


def _reachable(host_port: str) -> bool:
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1):
            return True
    except OSError:
        return False


def _run_script(name: str) -> None:
    subprocess.run(["bash", str(REPO / "scripts" / "infra" / name), "start"], check=True)
