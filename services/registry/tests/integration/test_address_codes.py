"""Addresses are checked against the administrative units in force on the registration date (refdata)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

ENTERPRISE = {
    "tax_code": "0300588569",
    "name": "Công ty TNHH Xăng dầu Mỏ Cày",
    "sector": "fuel-retail",
    "address": "Quốc lộ 57, xã Mỏ Cày",
    "province_code": "83",
    "commune_code": "28975",
    "registered_on": "2025-06-30",
}


def refused_field(response) -> str:
    assert response.status_code == 422, response.text
    assert response.json()["rule"] == "administrative-code"
    return str(response.json()["errors"][0]["field"])


def test_an_address_in_ben_tre_is_accepted_up_to_the_day_before_the_merger(api):
    api.created("/enterprises", ENTERPRISE)


def test_a_province_merged_into_another_on_2025_07_01_is_refused_after_it_naming_the_field(api):
    # Bình Dương (74) became part of Hồ Chí Minh City (79): outside the tenant's territory, only 79 is valid
    response = api.post("/enterprises", ENTERPRISE | {"province_code": "74", "registered_on": "2025-07-01"})

    assert refused_field(response) == "province_code"
    assert "'79'" in response.json()["detail"]


def test_the_same_former_province_is_accepted_before_the_merger(api):
    api.created(
        "/enterprises", ENTERPRISE | {"province_code": "74", "commune_code": "25741", "registered_on": "2025-06-30"}
    )


def test_within_the_tenants_merged_province_the_former_codes_are_still_accepted_after_the_merger(api):
    # tenant 83 (Bến Tre) is part of Vĩnh Long (86) with Trà Vinh (84): the transition keeps their codes usable
    api.created("/enterprises", ENTERPRISE | {"province_code": "84", "registered_on": "2026-01-05"})


def test_the_merged_province_is_accepted_after_the_merger(api):
    api.created("/enterprises", ENTERPRISE | {"province_code": "86", "registered_on": "2025-07-01"})


def test_a_code_no_province_ever_had_is_refused(api):
    assert refused_field(api.post("/enterprises", ENTERPRISE | {"province_code": "99"})) == "province_code"


def test_a_commune_of_another_province_is_refused_naming_the_commune(api):
    response = api.post("/enterprises", ENTERPRISE | {"province_code": "79", "commune_code": "28756"})

    assert refused_field(response) == "commune_code"


def test_an_update_to_a_ceased_province_is_refused(api):
    enterprise = api.created("/enterprises", ENTERPRISE)

    response = api.client.patch(
        f"/enterprises/{enterprise}", json={"province_code": "74", "changed_on": "2026-01-05"}, headers=api.admin
    )

    assert refused_field(response) == "province_code"


def test_after_the_merger_a_commune_the_merged_province_does_not_have_is_refused(api):
    # the list of Vĩnh Long's communes from 2025-07-01 is complete: 28765 is none of them
    response = api.post(
        "/enterprises", ENTERPRISE | {"province_code": "86", "commune_code": "28765", "registered_on": "2025-07-01"}
    )

    assert refused_field(response) == "commune_code"


def test_within_the_tenants_merged_province_a_former_commune_is_still_accepted(api):
    # Phường 8 of Bến Tre city (28759) became part of Phường Phú Khương (28756) on 2025-07-01
    api.created("/enterprises", ENTERPRISE | {"commune_code": "28759", "registered_on": "2026-01-05"})
