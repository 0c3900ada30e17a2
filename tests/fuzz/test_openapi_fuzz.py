"""Schemathesis against every service's OpenAPI, each service a process on PostgreSQL with a province-admin token:
a fixed seed and budget; 0 server errors, 0 undocumented status codes, 0 responses breaking their own schema."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from metrology.eventkit.kafka import KafkaConnection
from metrology.testkit.services import running_platform

SERVICES = ["registry", "verification", "outreach", "training", "reporting", "webhooks", "inspection"]
SEED = 20251111
EXAMPLES_PER_OPERATION = 8
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


@pytest.mark.timeout(600)
@pytest.mark.parametrize("service", SERVICES)
def test_fuzzing_the_openapi_finds_no_server_error_undocumented_status_or_schema_break(
    kafka: KafkaConnection, postgres_url: str, service: str, tmp_path: Path
) -> None:
    with running_platform(kafka.bootstrap_servers, tmp_path, {service: postgres_url}) as platform:
        running = platform.start(service)
        token = platform.token("province-admin", subject="fuzz")
        done = fuzz(f"{running.url}/openapi.json", token, tmp_path / "report.xml")
    summary = "\n".join(done.stdout.splitlines()[-60:])
    cases = re.search(r"(\d+) generated", done.stdout)
    print(f"{service}: {cases.group(1) if cases else '?'} cases generated\n{summary}")
    assert done.returncode == 0, f"{service}:\n{done.stdout[-12000:]}\n{done.stderr[-2000:]}"


def fuzz(openapi_url: str, token: str, report: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            openapi_url,
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            str(EXAMPLES_PER_OPERATION),
            "--seed",
            str(SEED),
            "--generation-deterministic",
            "--workers",
            "1",
            "--no-shrink",
            "--continue-on-failure",
            "--request-timeout",
            "20",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
