"""The chaos suite's short form (`make chaos QUICK=1`): on its own Kafka and PostgreSQL, the scripted years over
HTTP while a relay, a consumer, an API (mid-command) and the database fail in turn, each killed process with a hot
standby beside it; nothing the platform acknowledged may be lost or counted twice, every fault must be recovered
from, and the read models must end as the script says."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]


def test_a_quick_chaos_run_loses_nothing_and_counts_nothing_twice(tmp_path: Path) -> None:
    result = tmp_path / "chaos.json"
    run = subprocess.run(
        [sys.executable, "-m", "chaos", "--quick", "--json", str(result)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert result.exists(), f"no result (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    summary = json.loads(result.read_text())
    headline, findings = summary["headline"], summary["findings"]
    assert headline["faults injected"] == 4, run.stdout
    assert headline["acknowledged"] > 100, run.stdout
    assert (headline["lost"], headline["double-counted"]) == (0, 0), run.stdout
    assert all(f["recovery"] is not None for f in summary["faults"]), run.stdout
    kills = [f["fault"] for f in summary["faults"] if f["fault"].startswith("kill -9")]
    assert kills and all(k.endswith("(of two)") for k in kills), "each killed process had a hot standby beside it"
    assert not findings["kpi_differences"] and not findings["rebuild_differences"], run.stdout
    assert not findings["failed_facts"], run.stdout
