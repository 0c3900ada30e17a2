"""Every service as separate processes: `serve` (the HTTP API), `relay` (the outbox) and `consume` (replicas,
sagas, projectors), each killed and started again on its own port.

A deployment runs the commands that must never pause twice: two APIs behind one address (a client's retry
reaches the other), two relays (one publishes, one waits on the relay lock) and two consumers per group instance
id (one consumes, one waits on the lease). `pairs` lists which commands run so; the others run once."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpx

from metrology.testkit.services import Platform, ServiceProcess, free_port

SERVICES = ("registry", "verification", "outreach", "training", "reporting")
CONSUMERS = ("verification", "outreach", "reporting")  # those with subscriptions
ROLE_OF = {"relay": "relay", "consume": "consumers"}  # the /health role that tells the active process

Key = tuple[str, str, int]  # service, command, replica (0 or 1)


@dataclass
class Fleet:
    platform: Platform
    static_membership: bool = True
    pairs: frozenset[tuple[str, str]] = frozenset()
    processes: dict[Key, ServiceProcess] = field(default_factory=dict)

    def launch(self) -> None:
        """The APIs first (each migrates its schema), then the relays and consumers."""
        self.start_all([(name, "serve") for name in SERVICES])
        self.start_all([(name, "relay") for name in SERVICES] + [(name, "consume") for name in CONSUMERS])

    def replicas(self, name: str, command: str) -> list[int]:
        return [0, 1] if (name, command) in self.pairs else [0]

    def url(self, name: str, replica: int = 0) -> str:
        return self.processes[(name, "serve", replica)].url

    def urls(self, name: str) -> list[str]:
        return [self.url(name, replica) for replica in self.replicas(name, "serve")]

    def process(self, name: str, command: str, replica: int = 0) -> ServiceProcess:
        return self.processes[(name, command, replica)]

    async def active(self, name: str, command: str) -> int:
        """The replica whose relay or consumers are active (0 when none says so)."""
        return next(iter(await self.active_replicas(name, command)), 0)

    async def has_active(self, name: str, command: str) -> bool:
        """Some replica says its relay or consumers are active (a process has taken the work up)."""
        return bool(await self.active_replicas(name, command))

    async def active_replicas(self, name: str, command: str) -> list[int]:
        role = ROLE_OF.get(command)
        if role is None:
            return []
        found = []
        async with httpx.AsyncClient(timeout=3) as http:
            for replica in self.replicas(name, command):
                try:
                    health = (await http.get(f"{self.process(name, command, replica).url}/health")).json()
                except (httpx.HTTPError, ValueError):
                    continue
                if health.get("roles", {}).get(role) == "active":
                    found.append(replica)
        return found

    def kill(self, name: str, command: str, replica: int = 0) -> None:
        self.processes[(name, command, replica)].kill()

    def restart(self, name: str, command: str, replica: int = 0) -> ServiceProcess:
        """A new process on the same port, not waited for."""
        old = self.processes[(name, command, replica)]
        self.processes[(name, command, replica)] = self._new(name, command, replica, old.port).start()
        return self.processes[(name, command, replica)]

    def stop_all(self) -> None:
        """SIGTERM to all at once, then each waited for (killed after 20 s)."""
        for process in self.processes.values():
            if process.process and process.process.poll() is None:
                process.process.terminate()
        for process in self.processes.values():
            process.stop()

    def env(self, name: str, command: str) -> dict[str, str]:
        instance = f"{name}-{command}-1" if self.static_membership and command == "consume" else ""
        return self.platform.env_for(name, {"KAFKA_GROUP_INSTANCE_ID": instance, "LOG_LEVEL": "WARNING"})

    def _new(self, name: str, command: str, replica: int, port: int) -> ServiceProcess:
        suffix = f"-{replica + 1}" if (name, command) in self.pairs else ""
        log = self.platform.workdir / f"{name}-{command}{suffix}.log"
        return ServiceProcess(name, port, self.env(name, command), log, command=command)

    def start_all(self, which: Iterable[tuple[str, str]], ready_within: float = 360) -> None:
        keys = [(name, command, replica) for name, command in which for replica in self.replicas(name, command)]
        for name, command, replica in keys:
            self.processes[(name, command, replica)] = self._new(name, command, replica, free_port()).start()
        with concurrent.futures.ThreadPoolExecutor(len(keys)) as pool:
            waits = [pool.submit(self.processes[key].wait_ready, ready_within) for key in keys]
            for wait in waits:
                wait.result()
