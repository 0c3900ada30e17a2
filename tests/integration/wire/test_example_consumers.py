"""The example consumers in examples/ on the real broker: they validate every event against the published schemas,
keep certificates per provider, and after a restart continue where they stopped, counting nothing twice."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from metrology.testkit.infra import REPO

pytestmark = pytest.mark.integration

PYTHON_EXAMPLE = REPO / "examples" / "python-consumer" / "certificate_consumer.py"


def summary(printed: str) -> dict[str, Any]:
    """The consumer's last output line: this run's counts and the read model."""
    return json.loads(printed.strip().splitlines()[-1])


def run_counts(read: int, applied: int, duplicates: int = 0) -> dict[str, int]:
    return {"read": read, "applied": applied, "duplicates": duplicates, "invalid": 0}


def expected_model(log) -> dict[str, dict[str, int]]:
    return {
        "certificates_issued": {p: n for p, n in sorted(log.scenario.issued.items()) if n},
        "certificates_revoked": {p: n for p, n in sorted(log.scenario.revoked.items()) if n},
    }


def model_of(result: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {name: result[name] for name in ("certificates_issued", "certificates_revoked")}


def python_consumer(*args: str) -> str:
    result = subprocess.run([sys.executable, str(PYTHON_EXAMPLE), *args], capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, f"python consumer failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


async def restarted_twice(log, consume: Callable[..., str], state: Path) -> list[dict[str, Any]]:
    """Stop part-way through the first batch, restart after more events, restart again after the relay re-sent all."""
    await log.record_jobs("provider-a", 3, revoke=1)
    await log.record_jobs("provider-b", 2, fail=1)
    await log.publish()
    first_batch = log.scenario.events
    common = ["--topics", log.topic, "--group", f"example-{uuid.uuid4().hex[:8]}", "--state", str(state)]
    runs = [summary(consume(*common, "--max-events", "5"))]

    await log.record_jobs("provider-c", 2)
    await log.record_jobs("provider-a", 1)
    await log.publish()
    runs.append(summary(consume(*common, "--max-events", str(log.scenario.events - 5))))

    assert await log.publish(relay_name="second-relay") == log.scenario.events  # at least once: all sent again
    runs.append(summary(consume(*common, "--max-events", str(log.scenario.events))))
    assert first_batch > 5
    return runs


def assert_resumed_exactly(runs: list[dict[str, Any]], log) -> None:
    total = log.scenario.events
    assert runs[0]["run"] == run_counts(read=5, applied=5)
    assert runs[1]["run"] == run_counts(read=total - 5, applied=total - 5)
    assert model_of(runs[1]) == expected_model(log)
    assert runs[2]["run"] == run_counts(read=total, applied=0, duplicates=total)
    assert model_of(runs[2]) == expected_model(log)


async def test_the_java_consumer_resumes_after_restarts_and_counts_nothing_twice(
    verification_log, java_consumer, published_schemas, tmp_path
):
    def consume(*args: str) -> str:
        connection = ["--bootstrap", verification_log.kafka.bootstrap_servers, "--schemas", str(published_schemas)]
        return java_consumer(*connection, "--idle-ms", "30000", *args).stdout

    runs = await restarted_twice(verification_log, consume, tmp_path / "certificates.json")

    assert_resumed_exactly(runs, verification_log)


async def test_the_python_consumer_resumes_after_restarts_and_counts_nothing_twice(
    verification_log, published_schemas, tmp_path
):
    def consume(*args: str) -> str:
        connection = ["--bootstrap", verification_log.kafka.bootstrap_servers, "--schemas", str(published_schemas)]
        return python_consumer(*connection, "--idle-seconds", "30", *args)

    runs = await restarted_twice(verification_log, consume, tmp_path / "certificates.db")

    assert_resumed_exactly(runs, verification_log)


async def test_the_java_consumer_rejects_an_event_whose_data_breaks_the_published_schema(
    verification_log, java_consumer, published_schemas, tmp_path
):
    await verification_log.record_jobs("provider-a", 1)
    await verification_log.publish()
    records = await verification_log.records(verification_log.scenario.events)
    broken = records[0]
    await verification_log.send_raw(broken.key, b'{"job_id": 7}', broken.headers)

    printed = java_consumer(
        "--bootstrap", verification_log.kafka.bootstrap_servers, "--schemas", str(published_schemas),
        "--topics", verification_log.topic, "--state", str(tmp_path / "state.json"), "--idle-ms", "30000",
        "--max-events", str(verification_log.scenario.events + 1),
    )  # fmt: skip

    assert summary(printed.stdout)["run"]["invalid"] == 1
    assert "job_id" in printed.stderr


async def test_the_python_consumer_rejects_an_event_whose_data_breaks_the_published_schema(
    verification_log, published_schemas, tmp_path
):
    await verification_log.record_jobs("provider-a", 1)
    await verification_log.publish()
    records = await verification_log.records(verification_log.scenario.events)
    broken = records[0]
    await verification_log.send_raw(broken.key, b'{"job_id": 7}', broken.headers)

    printed = python_consumer(
        "--bootstrap", verification_log.kafka.bootstrap_servers, "--schemas", str(published_schemas),
        "--topics", verification_log.topic, "--state", str(tmp_path / "state.db"), "--idle-seconds", "30",
        "--max-events", str(verification_log.scenario.events + 1),
    )  # fmt: skip

    assert summary(printed)["run"]["invalid"] == 1
    assert "job_id" in printed
