"""A private Kafka broker and PostgreSQL server (own ports, own folders), started with the project's scripts,
and the two infrastructure faults: the broker stopped and started again on its data, PostgreSQL restarted."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from metrology.testkit.infra import REPO
from metrology.testkit.services import free_port

SCRIPTS = REPO / "scripts" / "infra"


KAFKA_START_ATTEMPTS = 3


def distinct_free_ports(count: int, taken: set[int] | None = None) -> list[int]:
    """Free loopback ports, none equal to another or to one already `taken` (the kernel may hand one out twice)."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports and port not in (taken or set()):
            ports.append(port)
    return ports


@dataclass
class PrivateInfra:
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="metrology-chaos-")))
    ports: list[int] = field(default_factory=lambda: distinct_free_ports(3))
    keep: bool = False  # leave the folder (logs, data) behind for a look afterwards

    @property
    def kafka_port(self) -> int:
        return self.ports[0]

    @property
    def controller_port(self) -> int:
        return self.ports[1]

    @property
    def pg_port(self) -> int:
        return self.ports[2]

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def pg_admin_url(self) -> str:
        return f"postgresql://metrology:metrology@127.0.0.1:{self.pg_port}/metrology"

    @property
    def kafka_log(self) -> Path:
        return self.run_dir / "kafka" / "kafka.log"

    def env(self) -> dict[str, str]:
        return os.environ | {
            "METROLOGY_RUN_DIR": str(self.run_dir),
            "KAFKA_PORT": str(self.kafka_port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "KAFKA_START_TIMEOUT": "120",  # the broker starts beside initdb on two cores
            "PGPORT": str(self.pg_port),
            "PGHOST": "127.0.0.1",
        }

    def start(self) -> None:
        """Both servers at once (the broker's JVM and initdb overlap); nothing is left running when either fails."""
        self.run_dir.chmod(0o755)  # the PostgreSQL system user must reach its folder
        postgres = self._spawn("postgres", "start")
        try:
            self._start_kafka()
        except RuntimeError:
            postgres.wait()
            self.stop()
            raise
        if postgres.wait() != 0:
            self.stop()
            raise RuntimeError(f"{postgres.args!r} failed")

    def _start_kafka(self) -> None:
        """`kafka.sh start`, again on two fresh ports when the broker does not come up (a port taken between
        choosing it and binding it, a start slower than its timeout); each failed attempt's log is kept beside."""
        for attempt in range(1, KAFKA_START_ATTEMPTS + 1):
            if self._run("kafka", "start") == 0:
                return
            failed_log = self.run_dir / f"kafka-attempt-{attempt}.log"
            self._run("kafka", "wipe", quiet=True)
            if self.kafka_log.exists():
                shutil.copyfile(self.kafka_log, failed_log)
            if attempt == KAFKA_START_ATTEMPTS:
                tail = failed_log.read_text(errors="replace").splitlines()[-40:] if failed_log.exists() else []
                raise RuntimeError(f"the private broker did not start (attempts: {attempt}):\n" + "\n".join(tail))
            self.ports[:2] = distinct_free_ports(2, taken=set(self.ports))
            print(f"chaos: the private broker did not start; again on {self.kafka_bootstrap}", file=sys.stderr)

    def stop(self) -> None:
        for name in ("kafka", "postgres"):
            self._run(name, "stop")
        if not self.keep:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    # --- the broker ------------------------------------------------------------------------------------------

    def stop_kafka(self) -> None:
        """Stop the broker gracefully, keeping its data."""
        self._run("kafka", "stop")

    def start_kafka_again(self) -> None:
        """`kafka.sh start` on the same folder: the storage is formatted once, so every topic is still there."""
        if self._run("kafka", "start") != 0:
            raise RuntimeError(f"the broker did not come back (log: {self.run_dir / 'kafka' / 'kafka.log'})")

    # --- the database ----------------------------------------------------------------------------------------

    def restart_postgres(self) -> None:
        """`pg_ctl stop -m fast` then start on the same data: every connection is cut."""
        self._run("postgres", "stop")
        if self._run("postgres", "start") != 0:
            raise RuntimeError("PostgreSQL did not start again")

    def _spawn(self, name: str, command: str, quiet: bool = False) -> subprocess.Popen[bytes]:
        output = subprocess.DEVNULL if quiet else None
        script = ["bash", str(SCRIPTS / f"{name}.sh"), command]
        return subprocess.Popen(script, env=self.env(), stdout=output, stderr=output)

    def _run(self, name: str, command: str, quiet: bool = False) -> int:
        return self._spawn(name, command, quiet).wait()
