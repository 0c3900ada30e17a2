"""`make up` on a machine where the platform already runs: the second start refuses, and touches nothing."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_a_second_make_up_refuses_while_a_service_port_is_taken_and_starts_or_stops_nothing(tmp_path: Path):
    run_dir = tmp_path / "run"
    with socket.socket() as registry_port:
        registry_port.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            registry_port.bind(("127.0.0.1", 8001))
            registry_port.listen()
        except OSError:
            pass  # something here answers on 8001 already: the same situation
        started = subprocess.run(
            ["bash", str(REPO / "scripts" / "up.sh")],
            env={**os.environ, "METROLOGY_RUN_DIR": str(run_dir)},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert started.returncode == 1
    assert "port 8001 (registry) is in use" in started.stderr
    assert "`make down` stops it" in started.stderr
    assert not run_dir.exists()  # no pid files, no logs, no broker of its own: nothing to stop afterwards
