"""`make down` while `make up` stops too: `make up` runs `down.sh` when its services exit, so a `make down` from
another terminal and the one `make up` starts run at the same time, over the same pid files."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_two_stops_at_once_stop_every_service_and_report_no_error(tmp_path: Path):
    run_dir = tmp_path / "run"
    pid_dir = run_dir / "pids"
    pid_dir.mkdir(parents=True)
    for attempt in range(5):
        services = [subprocess.Popen(["sleep", "60"]) for _ in range(12)]
        reapers = [threading.Thread(target=service.wait, daemon=True) for service in services]
        for reaper in reapers:  # as `make up`'s shell does: a stopped service is gone, not a zombie
            reaper.start()
        for n, service in enumerate(services):
            (pid_dir / f"service{n}.pid").write_text(f"{service.pid}\n")
        env = {**os.environ, "METROLOGY_RUN_DIR": str(run_dir)}
        stops = [
            subprocess.Popen(["bash", str(REPO / "scripts" / "down.sh")], env=env, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        outcomes = [(stop.wait(timeout=60), stop.stderr.read()) for stop in stops]  # type: ignore[union-attr]
        for reaper in reapers:
            reaper.join(timeout=10)
        exits = [service.returncode for service in services]

        assert [code for code, _ in outcomes] == [0, 0], outcomes
        assert not any("No such file" in err or "error" in err for _, err in outcomes), (attempt, outcomes)
        assert all(code is not None for code in exits)
        assert list(pid_dir.glob("*.pid")) == []
