"""A private Kafka broker and PostgreSQL server (own ports, own folders), started with the project's scripts,
and the two infrastructure faults: the broker stopped and started again on its data, PostgreSQL restarted."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from metrology.testkit.infra import REPO
from metrology.testkit.services import free_port

SCRIPTS = REPO / "scripts" / "infra"


@dataclass
class PrivateInfra:
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="metrology-chaos-")))
    kafka_port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    pg_port: int = field(default_factory=free_port)
    _broker_command: list[str] = field(default_factory=list)

    @property
    def kafka_bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def pg_admin_url(self) -> str:
        return f"postgresql://metrology:metrology@127.0.0.1:{self.pg_port}/metrology"

    def env(self) -> dict[str, str]:
        return os.environ | {
            "METROLOGY_RUN_DIR": str(self.run_dir),
            "KAFKA_PORT": str(self.kafka_port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "PGPORT": str(self.pg_port),
            "PGHOST": "127.0.0.1",
        }

    def start(self) -> None:
        """Both servers at once (the broker's JVM and initdb overlap)."""
        self.run_dir.chmod(0o755)  # the PostgreSQL system user must reach its folder
        starting = [self._spawn(name, "start") for name in ("kafka", "postgres")]
        for process in starting:
            if process.wait() != 0:
                raise RuntimeError(f"{process.args!r} failed")

    def stop(self) -> None:
        for name in ("kafka", "postgres"):
            self._run(name, "stop")
        shutil.rmtree(self.run_dir, ignore_errors=True)

    # --- the broker ------------------------------------------------------------------------------------------

    def stop_kafka(self) -> None:
        """Stop the broker gracefully, keeping its data (kafka.sh start would format fresh storage)."""
        pid_file = self.run_dir / "kafka" / "kafka.pid"
        pid = pid_file.read_text().strip()
        self._broker_command = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
        self._run("kafka", "stop")

    def start_kafka_again(self, timeout: float = 90) -> None:
        """The same broker command line on the same data folder, detached like kafka.sh starts it."""
        kafka_dir = self.run_dir / "kafka"
        log = (kafka_dir / "kafka.log").open("ab")
        process = subprocess.Popen(
            self._broker_command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
        (kafka_dir / "kafka.pid").write_text(f"{process.pid}\n")
        deadline = time.monotonic() + timeout
        while self._run("kafka", "status", quiet=True) != 0:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the broker did not come back (log: {kafka_dir / 'kafka.log'})")
            time.sleep(0.2)

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
