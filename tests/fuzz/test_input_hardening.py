"""Each hardening rule on a real route of a service on PostgreSQL: what no column can hold is refused with a 422
problem naming the field, before it reaches a handler or the database (each of these answered 500, or stored
what it should not, before the rules)."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.settings import ServiceSettings

pytestmark = pytest.mark.integration

SECRET = "input-hardening-secret-0123456789abcdef0123"
ADMIN = {"Authorization": f"Bearer {issue_dev_token(SECRET, 'hardening', ['province-admin'], '83')}"}
INT64_MAX = 2**63 - 1


def settings_class(service: str) -> type[ServiceSettings]:
    module = importlib.import_module(f"metrology.{service}.settings")
    return getattr(module, f"{service.capitalize()}Settings")  # type: ignore[no-any-return]


@pytest.fixture
def service(postgres_url: str) -> Iterator[Callable[[str], TestClient]]:
    """A service's app on its own fresh PostgreSQL database (migrated at start-up, no workers)."""
    clients: list[TestClient] = []

    def start(name: str) -> TestClient:
        if clients:
            raise RuntimeError("one service per test: each needs its own database")
        settings = settings_class(name).from_env(
            name, database_url=postgres_url, auth_jwt_secret=SECRET, run_consumers=False, run_relay=False
        )
        bootstrap = importlib.import_module(f"metrology.{name}.bootstrap").bootstrap
        client = TestClient(create_app(bootstrap(settings)), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def refused(response: Any, field: str) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == [field], response.text
    return fields


ENROLMENT = {
    "enterprise_id": "2f0c6f5e-8d0b-4b1e-9a55-3c1d7e6a9b21",
    "enrolled_on": "2025-02-10",
    "consent": True,
    "contact_name": "Nguyễn Văn An",
}


def test_a_nul_character_in_a_json_string_is_refused_naming_the_field(service: Callable[[str], TestClient]) -> None:
    outreach = service("outreach")
    response = outreach.post("/participations", json=ENROLMENT | {"contact_name": "Nguyễn\x00 Văn An"}, headers=ADMIN)
    refused(response, "body.contact_name")


def test_a_nul_character_in_a_query_parameter_is_refused_naming_it(service: Callable[[str], TestClient]) -> None:
    outreach = service("outreach")
    refused(outreach.get("/accesses", params={"enterprise_id": "e\x00"}, headers=ADMIN), "query.enterprise_id")


def test_an_offset_beyond_int64_is_refused(service: Callable[[str], TestClient]) -> None:
    outreach = service("outreach")
    refused(outreach.get("/accesses", params={"offset": INT64_MAX + 1}, headers=ADMIN), "query.offset")
    assert outreach.get("/accesses", params={"offset": INT64_MAX}, headers=ADMIN).status_code == 200


def test_an_integer_beyond_int64_in_a_body_and_a_count_beyond_its_int32_column_are_refused(
    service: Callable[[str], TestClient],
) -> None:
    outreach = service("outreach")
    campaign: dict[str, Any] = {"held_on": "2025-03-15", "title": "Hội thảo", "audience": "enterprises"}
    campaign |= {"channel": "workshop", "enterprises_reached": 3}
    refused(
        outreach.post("/campaigns", json=campaign | {"enterprises_reached": 2**64}, headers=ADMIN),
        "body.enterprises_reached",
    )
    refused(
        outreach.post("/campaigns", json=campaign | {"people_reached": 2**31}, headers=ADMIN), "body.people_reached"
    )


def test_a_string_longer_than_its_column_is_refused(service: Callable[[str], TestClient]) -> None:
    registry = service("registry")
    standard = {
        "owner_id": "provider-1",
        "name": "Bộ quả cân chuẩn M1",
        "quantity": "mass",
        "measuring_range": "1 mg - 20 kg",
        "accuracy": "M1",
        "level": "working",
        "certificate_number": "V12.345.24",
        "calibrated_on": "2025-01-10",
        "due_on": "2026-01-10",
        "calibrated_against": "s" * 65,  # standards.calibrated_against is VARCHAR(64)
    }
    refused(registry.post("/standards", json=standard, headers=ADMIN), "body.calibrated_against")


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_are_refused_in_measured_values(service: Callable[[str], TestClient], number: str) -> None:
    verification = service("verification")
    job = {
        "kind": "verification",
        "mode": "periodic",
        "subject_id": "instrument-1",
        "provider_id": "provider-1",
        "verifier_id": "verifier-1",
        "procedure": "ĐLVN 39:2012",
        "performed_on": "2025-05-14",
        "result": "pass",
        "measurements": [
            {"quantity": "mass", "nominal": 10.0, "measured": "MEASURED", "unit": "kg", "expanded_uncertainty": 5e-4}
        ],
    }
    body = json.dumps(job).replace('"MEASURED"', number)  # JSON itself has no NaN: Python's parser reads it
    response = verification.post("/jobs", content=body, headers=ADMIN | {"Content-Type": "application/json"})
    refused(response, "body.measurements.0.measured")


def test_a_date_in_year_9999_is_refused_before_a_validity_is_added_to_it(service: Callable[[str], TestClient]) -> None:
    registry = service("registry")
    designation = {
        "decision_number": "245/QĐ-TĐC",
        "designated_on": "2024-03-15",
        "valid_from": "9999-06-01",
        "instrument_types": ["2.19"],
        "fields": ["mass"],
    }
    response = registry.post("/providers/any-provider/designations", json=designation, headers=ADMIN)
    refused(response, "body.valid_from")


def test_an_empty_recording_time_is_refused_not_a_server_error(service: Callable[[str], TestClient]) -> None:
    reporting = service("reporting")
    refused(reporting.get("/changes", params={"since_known_at": ""}, headers=ADMIN), "query.since_known_at")
