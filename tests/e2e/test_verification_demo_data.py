"""The verification demo history over a small registry: recorded through the API, idempotent on a second run."""

from __future__ import annotations

import httpx
import pytest

from metrology.verification.demo import load_demo_history

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _post(client: httpx.Client, path: str, body: dict) -> str:
    response = client.post(path, json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def small_registry(registry: httpx.Client) -> None:
    enterprise = _post(
        registry,
        "/enterprises",
        {
            "tax_code": "0101248141",
            "name": "Ban Quản lý chợ Bến Tre",
            "sector": "market",
            "address": "Phường An Hội",
            "province_code": "83",
            "commune_code": "28756",
            "registered_on": "2024-01-10",
        },
    )
    centre = _post(
        registry,
        "/providers",
        {
            "name": "Trung tâm Kỹ thuật TĐC Bến Tre",
            "ownership": "state",
            "province_code": "83",
            "commune_code": "28756",
            "fields": ["mass"],
            "registration_certificate_number": "01/ĐKDV",
            "registration_certificate_date": "2020-01-05",
            "registered_on": "2020-01-05",
        },
    )
    _post(
        registry,
        f"/providers/{centre}/designations",
        {
            "decision_number": "188/QĐ-TĐC",
            "instrument_types": ["2.8b"],
            "fields": ["mass"],
            "designated_on": "2021-05-10",
            "valid_until": "2031-05-09",
        },
    )
    _post(
        registry,
        f"/providers/{centre}/verifiers",
        {
            "card_number": "KĐV-83-002",
            "full_name": "Trần Thị Kim Loan",
            "fields": ["mass"],
            "certified_on": "2020-02-01",
        },
    )
    reference = _post(
        registry,
        "/standards",
        {
            "owner_id": centre,
            "name": "Quả cân E2",
            "quantity": "mass",
            "measuring_range": "1 mg – 20 kg",
            "accuracy": "E2",
            "level": "reference",
            "national_standard": "Chuẩn quốc gia khối lượng",
            "certificate_number": "M01.0456.24",
            "calibrated_on": "2024-01-22",
            "due_on": "2026-01-22",
        },
    )
    _post(
        registry,
        "/standards",
        {
            "owner_id": centre,
            "name": "Quả cân M1",
            "quantity": "mass",
            "measuring_range": "1 t",
            "accuracy": "M1",
            "level": "working",
            "calibrated_against": reference,
            "certificate_number": "M01.0501.24",
            "calibrated_on": "2024-02-19",
            "due_on": "2025-02-19",
        },
    )
    for n in range(6):
        _post(
            registry,
            "/instruments",
            {
                "type_code": "2.8b",
                "serial": f"NHH-2024-{n:04d}",
                "manufacturer": "Nhơn Hòa",
                "type_approval_number": "PDM 033-2018",
                "owner_enterprise_id": enterprise,
                "province_code": "83",
                "commune_code": "28756",
                "registered_on": f"2024-0{n + 2}-05",
            },
        )


def test_the_demo_history_is_recorded_through_the_api_and_a_second_run_adds_nothing(platform):
    platform.start("registry")
    platform.start("verification")
    token = platform.token("province-admin")
    with httpx.Client(base_url=platform.url("registry"), headers={"Authorization": f"Bearer {token}"}) as registry:
        small_registry(registry)
    first = load_demo_history(platform.url("verification"), token, registry_url=platform.url("registry"))
    assert first["recorded"] >= 6 and first["standard_calibrations"] >= 1, first
    assert first["rules"].get("standard-calibration-expired", 0) == 0, "recalibrations keep the working standard usable"

    second = load_demo_history(platform.url("verification"), token, registry_url=platform.url("registry"))
    assert second["recorded"] == 0 and second["replayed"] == first["recorded"], second

    admin = {"Authorization": f"Bearer {token}"}
    jobs = httpx.get(f"{platform.url('verification')}/jobs", params={"limit": 500}, headers=admin).json()
    assert jobs["total"] == first["recorded"]
    outside = [j for j in jobs["items"] if not j["provider_local"]]
    assert outside, "the outside provider calibrated the working standard"
