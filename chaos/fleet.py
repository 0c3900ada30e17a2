"""Every service as separate processes: `serve` (the HTTP API), `relay` (the outbox) and `consume` (replicas,
sagas, projectors), each killed and started again on its own port."""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass, field

from metrology.testkit.services import Platform, ServiceProcess, free_port

SERVICES = ("registry", "verification", "outreach", "training", "reporting")
CONSUMERS = ("verification", "outreach", "reporting")  # those with subscriptions


@dataclass
class Fleet:
    platform: Platform
    static_membership: bool = True
    processes: dict[tuple[str, str], ServiceProcess] = field(default_factory=dict)

    def launch(self) -> None:
        """The APIs first (each migrates its schema), then the relays and consumers."""
        self.start_all([(name, "serve") for name in SERVICES])
        self.start_all([(name, "relay") for name in SERVICES] + [(name, "consume") for name in CONSUMERS])

    def url(self, name: str) -> str:
        return self.processes[(name, "serve")].url

    def process(self, name: str, command: str) -> ServiceProcess:
        return self.processes[(name, command)]

    def kill(self, name: str, command: str) -> None:
        self.processes[(name, command)].kill()

    def restart(self, name: str, command: str) -> ServiceProcess:
        """A new process on the same port, not waited for."""
        old = self.processes[(name, command)]
        self.processes[(name, command)] = self._new(name, command, old.port).start()
        return self.processes[(name, command)]

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

    def _new(self, name: str, command: str, port: int) -> ServiceProcess:
        log = self.platform.workdir / f"{name}-{command}.log"
        return ServiceProcess(name, port, self.env(name, command), log, command=command)

    def start_all(self, which: list[tuple[str, str]], ready_within: float = 360) -> None:
        for name, command in which:
            self.processes[(name, command)] = self._new(name, command, free_port()).start()
        with concurrent.futures.ThreadPoolExecutor(len(which)) as pool:
            waits = [pool.submit(self.processes[key].wait_ready, ready_within) for key in which]
            for wait in waits:
                wait.result()
