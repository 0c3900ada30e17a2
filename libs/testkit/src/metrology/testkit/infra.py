"""Find (or start, with the project's scripts) the Kafka broker and PostgreSQL server the tests use."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from pathlib import Path

import asyncpg

REPO = Path(__file__).resolve().parents[5]
DEFAULT_PG_URL = "postgresql://metrology:metrology@127.0.0.1:55432/metrology"


def kafka_bootstrap() -> str:
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
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


def unique_topic(prefix: str = "test") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


def _reachable(host_port: str) -> bool:
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=1):
            return True
    except OSError:
        return False


def _run_script(name: str) -> None:
    subprocess.run(["bash", str(REPO / "scripts" / "infra" / name), "start"], check=True)
