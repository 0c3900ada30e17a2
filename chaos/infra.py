"""A private Kafka broker and PostgreSQL server (own ports, own folders), started with the project's scripts,
and the two infrastructure faults: the broker stopped and started again on its data, PostgreSQL restarted."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
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
    keep: bool = False  # leave the folder (logs, data) behind for a look afterwards

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
