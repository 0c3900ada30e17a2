"""Start services as separate processes (their real console scripts) for end-to-end tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from metrology.testkit import infra
from metrology.testkit.infra import REPO


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def console_script(service: str) -> str:
    found = shutil.which(f"metrology-{service}") or str(REPO / ".venv" / "bin" / f"metrology-{service}")
    return found


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    command: str = "run"
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServiceProcess:
        log = self.log_path.open("ab")
        args = [console_script(self.name), *self.arguments()]
        self.process = subprocess.Popen(args, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        return self

    def arguments(self) -> list[str]:
        """`relay` and `consume` answer the probes on `port`; the HTTP commands serve on it."""
        if self.command in ("relay", "consume"):
            return [self.command, "--health-port", str(self.port)]
        return [self.command, "--host", "127.0.0.1", "--port", str(self.port)]

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{self.name} not ready after {timeout}s:\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Platform:
    """A set of services sharing one Kafka (with a topic prefix of their own) and one secret."""

    kafka_bootstrap: str
    workdir: Path
    database_urls: Mapping[str, str] = field(default_factory=dict)
    secret: str = field(default_factory=lambda: uuid.uuid4().hex * 2)
    prefix: str = field(default_factory=infra.topic_prefix)
    tenant: str = "83"
    services: dict[str, ServiceProcess] = field(default_factory=dict)

    def env_for(self, name: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("METROLOGY_") or k == "METROLOGY_CACHE_DIR"}
        env |= {
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "KAFKA_TOPIC_PREFIX": self.prefix,
            "ENVIRONMENT": "development",
            "AUTH_JWT_SECRET": self.secret,
            "TENANT": self.tenant,
            "LOG_LEVEL": "INFO",
            f"{name.upper()}_DATA_DIR": str(self.workdir / "data"),
        }
        if name in self.database_urls:
            env[f"{name.upper()}_DATABASE_URL"] = self.database_urls[name]
        return env | dict(extra or {})

    def start(self, name: str, extra_env: Mapping[str, str] | None = None, command: str = "run") -> ServiceProcess:
        existing = self.services.get(name)
        port = existing.port if existing else free_port()
        service = ServiceProcess(
            name, port, self.env_for(name, extra_env), self.workdir / f"{name}.log", command=command
        ).start()
        self.services[name] = service
        service.wait_ready()
        return service

    def url(self, name: str) -> str:
        return self.services[name].url

    def token(self, *roles: str, subject: str = "e2e", **claims: Any) -> str:
        from metrology.servicekit.auth import issue_dev_token

        return issue_dev_token(self.secret, subject, roles, self.tenant, **claims)

    def consumer_groups(self, name: str) -> list[tuple[str, list[str]]]:
        """The service's consumer groups and their topics, as its own bootstrap declares them."""
        import importlib

        from metrology.servicekit.settings import ServiceSettings

        bootstrap = importlib.import_module(f"metrology.{name}.bootstrap").bootstrap
        settings = ServiceSettings.from_env(name, kafka_topic_prefix=self.prefix, database_url="sqlite+aiosqlite://")
        runtime = bootstrap(settings)
        return [(s.group_id, list(s.topics)) for s in runtime.subscriptions]

    def wait_caught_up(self, name: str, timeout: float = 60.0) -> None:
        """Wait until every consumer group of the service has committed up to the end of its topics."""
        from metrology.testkit.lag import wait_until_caught_up

        wait_until_caught_up(self.kafka_bootstrap, self.consumer_groups(name), timeout)

    def stop_all(self) -> None:
        for service in self.services.values():
            service.stop()


@contextmanager
def running_platform(kafka_bootstrap: str, workdir: Path, database_urls: Mapping[str, str]) -> Iterator[Platform]:
    platform = Platform(kafka_bootstrap, workdir, database_urls)
    try:
        yield platform
    finally:
        platform.stop_all()
