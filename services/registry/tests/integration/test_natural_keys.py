"""Look-ups by the keys an integrator holds (tax code, type + serial, registration numbers), SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from metrology.registry.bootstrap import bootstrap
from metrology.registry.settings import RegistrySettings
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token

pytestmark = pytest.mark.integration

SECRET = "registry-natural-keys-secret-0123456789abcdef"

ENTERPRISE = {
    "tax_code": "0300588569",
    "name": "Công ty TNHH Xăng dầu Mỏ Cày",
    "sector": "fuel-retail",
    "address": "Quốc lộ 57, xã Mỏ Cày",
    "province_code": "83",
    "commune_code": "28975",
    "registered_on": "2024-03-01",
}
PROVIDER = {
    "name": "Công ty CP Kiểm định Nam Bộ",
    "ownership": "socialised",
    "province_code": "83",
    "commune_code": "28756",
    "fields": ["volume", "mass"],
    "registration_certificate_number": "05/ĐKDV-TĐC",
    "registration_certificate_date": "2023-06-01",
}
LABORATORY = {
    "name": "Phòng thí nghiệm đo lường khối lượng",
    "owner": "Trung tâm Kỹ thuật TĐC Bến Tre",
    "province_code": "83",
    "commune_code": "28756",
    "registration_number": "PTN-83/007",
}


@dataclass
class Registry:
    http: httpx.AsyncClient

    def token(self, *roles: str, tenant: str = "83", **claims: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_dev_token(SECRET, 'tester', list(roles), tenant, **claims)}"}

    async def created(self, path: str, body: dict[str, Any]) -> str:
        response = await self.http.post(path, json=body, headers=self.token("province-admin"))
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def get(self, path: str, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
        return await self.http.get(path, params=params, headers=headers or self.token("viewer"))


@pytest.fixture
async def registry(database_url: str) -> AsyncIterator[Registry]:
    settings = RegistrySettings.from_env("registry", database_url=database_url, auth_jwt_secret=SECRET, tenant="83")
    runtime = bootstrap(settings)
    await runtime.migrate()
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
        yield Registry(client)
    await runtime.dispose()


def instrument(owner: str, **overrides: str) -> dict[str, str]:
    body = {
        "type_code": "2.19",
        "serial": "TK-2024-0001",
        "manufacturer": "Tatsuno",
        "type_approval_number": "PDM 149-2019",
        "owner_enterprise_id": owner,
        "province_code": "83",
        "commune_code": "28975",
        "registered_on": "2024-04-01",
    }
    return body | overrides


async def test_an_enterprise_is_found_by_its_tax_code(registry: Registry):
    enterprise_id = await registry.created("/enterprises", ENTERPRISE)

    found = await registry.get("/enterprises/by-tax-code/0300588569")

    assert found.status_code == 200, found.text
    assert found.json()["enterprise_id"] == enterprise_id


async def test_an_unknown_tax_code_is_a_404_naming_the_field(registry: Registry):
    missing = await registry.get("/enterprises/by-tax-code/0101248141")

    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["errors"][0]["field"] == "tax_code"


async def test_an_enterprise_finds_only_itself_and_another_province_finds_nothing(registry: Registry):
    enterprise_id = await registry.created("/enterprises", ENTERPRISE)
    other_id = await registry.created("/enterprises", ENTERPRISE | {"tax_code": "0101248141"})
    itself = registry.token("enterprise", enterprise_id=enterprise_id)

    assert (await registry.get("/enterprises/by-tax-code/0300588569", itself)).status_code == 200
    assert (await registry.get("/enterprises/by-tax-code/0101248141", itself)).status_code == 404
    elsewhere = registry.token("viewer", tenant="87")
    assert (await registry.get("/enterprises/by-tax-code/0300588569", elsewhere)).status_code == 404
    assert other_id != enterprise_id


async def test_an_instrument_is_found_by_type_and_serial_within_its_owners_reach(registry: Registry):
    owner = await registry.created("/enterprises", ENTERPRISE)
    stranger = await registry.created("/enterprises", ENTERPRISE | {"tax_code": "0101248141"})
    instrument_id = await registry.created("/instruments", instrument(owner))

    found = await registry.get("/instruments/by-serial", type_code="2.19", serial="TK-2024-0001")

    assert found.status_code == 200, found.text
    assert found.json()["instrument_id"] == instrument_id
    as_owner = registry.token("enterprise", enterprise_id=owner)
    as_stranger = registry.token("enterprise", enterprise_id=stranger)
    params = {"type_code": "2.19", "serial": "TK-2024-0001"}
    assert (await registry.get("/instruments/by-serial", as_owner, **params)).status_code == 200
    assert (await registry.get("/instruments/by-serial", as_stranger, **params)).status_code == 404
    assert (await registry.get("/instruments/by-serial", type_code="2.8b", serial="TK-2024-0001")).status_code == 404


async def test_two_manufacturers_sharing_a_serial_need_the_manufacturer_to_tell_them_apart(registry: Registry):
    owner = await registry.created("/enterprises", ENTERPRISE)
    await registry.created("/instruments", instrument(owner))
    gilbarco = await registry.created("/instruments", instrument(owner, manufacturer="Gilbarco"))

    ambiguous = await registry.get("/instruments/by-serial", type_code="2.19", serial="TK-2024-0001")
    exact = await registry.get(
        "/instruments/by-serial", type_code="2.19", serial="TK-2024-0001", manufacturer="Gilbarco"
    )

    assert ambiguous.status_code == 422
    assert ambiguous.json()["errors"][0]["field"] == "manufacturer"
    assert exact.json()["instrument_id"] == gilbarco


async def test_a_provider_is_found_by_its_registration_number_even_with_a_slash(registry: Registry):
    provider_id = await registry.created("/providers", PROVIDER)

    plain = await registry.get("/providers/by-registration/05/ĐKDV-TĐC")
    encoded = await registry.get("/providers/by-registration/05%2F%C4%90KDV-T%C4%90C")

    assert plain.status_code == 200, plain.text
    assert plain.json()["provider_id"] == provider_id and plain.json()["verifiers"] == []
    assert encoded.json()["provider_id"] == provider_id
    elsewhere = registry.token("viewer", tenant="87")
    assert (await registry.get("/providers/by-registration/05/ĐKDV-TĐC", elsewhere)).status_code == 404


async def test_a_provider_registration_number_is_registered_once_per_tenant(registry: Registry):
    await registry.created("/providers", PROVIDER)

    again = await registry.http.post(
        "/providers", json=PROVIDER | {"name": "Another name"}, headers=registry.token("province-admin")
    )

    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "registration_certificate_number"
    assert (await registry.get("/providers")).json()["total"] == 1


async def test_two_registrations_of_one_number_at_once_leave_one_provider(registry: Registry):
    admin = registry.token("province-admin")

    answers = await asyncio.gather(
        *(registry.http.post("/providers", json=PROVIDER | {"name": f"Provider {n}"}, headers=admin) for n in range(2))
    )

    assert sorted(a.status_code for a in answers) == [201, 409]
    assert (await registry.get("/providers")).json()["total"] == 1


async def test_a_laboratory_is_found_by_its_registration_number_which_is_unique(registry: Registry):
    laboratory_id = await registry.created("/laboratories", LABORATORY)
    await registry.created("/laboratories", LABORATORY | {"registration_number": None, "name": "Phòng thí nghiệm 2"})
    await registry.created("/laboratories", LABORATORY | {"registration_number": None, "name": "Phòng thí nghiệm 3"})

    found = await registry.get("/laboratories/by-registration/PTN-83/007")
    again = await registry.http.post("/laboratories", json=LABORATORY, headers=registry.token("province-admin"))

    assert found.status_code == 200, found.text
    assert found.json()["laboratory_id"] == laboratory_id and found.json()["accreditations"] == []
    assert again.status_code == 409
    assert again.json()["errors"][0]["field"] == "registration_number"
    missing = await registry.get("/laboratories/by-registration/PTN-83-999")
    assert missing.status_code == 404 and missing.json()["errors"][0]["field"] == "registration_number"
