"""Each image's start command, run as a local process, answers /health.

The command comes from the service's Dockerfile (ENTRYPOINT + CMD) with the
host and port swapped for loopback and a free port, and runs against the local
Kafka broker (KAFKA_BOOTSTRAP_SERVERS, default 127.0.0.1:9092) and a fresh
PostgreSQL database per service created on the server in METROLOGY_TEST_PG_URL
(e.g. postgresql://metrology:metrology@127.0.0.1:55432/metrology). As in
compose and Kubernetes, `migrate` runs first.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import deploycheck
import pytest

from metrology.eventkit.kafka import KafkaConnection

pytestmark = pytest.mark.integration

VENV_BIN = deploycheck.ROOT / ".venv" / "bin"
HEALTH_TIMEOUT = 30.0


def image_command(service: str) -> list[str]:
    text = (deploycheck.ROOT / "services" / service / "Dockerfile").read_text()
    entrypoint = json.loads(re.search(r"^ENTRYPOINT (\[.*\])$", text, re.M)[1])
    cmd = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M)[1])
    return entrypoint + cmd


def local_command(command: list[str], port: int) -> list[str]:
    """The image command for this machine: the venv's console script, loopback, a free port."""
    executable, *args = command
    args = list(args)
    args[args.index("--host") + 1] = "127.0.0.1"
    args[args.index("--port") + 1] = str(port)
    return [str(VENV_BIN / executable), *args]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def kafka_bootstrap(kafka: KafkaConnection) -> str:
    """The local broker (the testkit fixture finds it, or starts it with scripts/infra/kafka.sh)."""
    return kafka.bootstrap_servers


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """A fresh database on the local PostgreSQL server (created and dropped by the testkit fixture)."""
    parts = urlsplit(postgres_url)
    return urlunsplit(("postgresql+asyncpg", parts.netloc, parts.path, "", ""))


def wait_for_health(url: str, process: subprocess.Popen[bytes], timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    return None


@pytest.mark.parametrize("service", list(deploycheck.SERVICES))
def test_the_image_command_serves_health_against_local_kafka_and_postgres(
    service: str, kafka_bootstrap: str, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    command = local_command(image_command(service), port)
    assert Path(command[0]).exists(), f"{command[0]} is not installed (uv sync --all-packages)"
    env = {
        **os.environ,
        f"{service.upper()}_DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "ENVIRONMENT": "development",
        "AUTH_JWT_SECRET": "smoke-test-secret",
        "TENANT": "83",
        "LOG_LEVEL": "INFO",
        "OTEL_SERVICE_NAME": service,
    }
    env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)

    migrate = subprocess.run([command[0], "migrate"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert migrate.returncode == 0, f"{service} migrate failed:\n{migrate.stdout}\n{migrate.stderr}"

    log = (tmp_path / f"{service}.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        status = wait_for_health(f"http://127.0.0.1:{port}/health", process, HEALTH_TIMEOUT)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
    output = (tmp_path / f"{service}.log").read_text(errors="replace")[-4000:]
    assert status == 200, f"{' '.join(command)} did not answer /health within {HEALTH_TIMEOUT:.0f}s:\n{output}"


def test_the_local_command_keeps_the_image_entrypoint_and_arguments() -> None:
    command = local_command(image_command("reporting"), 5555)
    assert command == [str(VENV_BIN / "metrology-reporting"), "serve", "--host", "127.0.0.1", "--port", "5555"]
