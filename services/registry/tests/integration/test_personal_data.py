"""Enterprise contacts and verifiers' names travel sealed per person; erasure leaves them unreadable in the events
table, on Kafka and in the query tables, while the enterprise and the verifier stay registered."""

from __future__ import annotations

import asyncio
import base64

import asyncpg
import pytest
from typer.testing import CliRunner

from metrology.registry.bootstrap import bootstrap
from metrology.registry.entrypoints.cli import app
from metrology.registry.settings import RegistrySettings
from metrology.servicekit.personal_data import DEV_PERSONAL_DATA_KEYS, PersonalDataVault, pseudonym
from metrology.servicekit.settings import DEV_ACTOR_PSEUDONYM_KEY

pytestmark = pytest.mark.integration

CONTACT = {"contact_name": "Huỳnh Văn Lộc", "contact_phone": "0275 3811 456", "contact_email": "loc@moccay.vn"}
NEW_CONTACT = {"contact_name": "Đặng Thị Mai"}
VERIFIER_NAME = "Trần Thị Bích"
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
    "fields": ["volume"],
    "registration_certificate_number": "05/ĐKDV-TĐC",
    "registration_certificate_date": "2023-06-01",
    "registered_on": "2023-06-01",
}
SECRETS = (*CONTACT.values(), *NEW_CONTACT.values(), VERIFIER_NAME)


async def stored(url: str) -> tuple[bytes, int]:
    """Every row of every table as text (events, query tables, replays), and how many data keys are held."""
    connection = await asyncpg.connect(url)
    try:
        tables = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        dump = b""
        for table in sorted(r["tablename"] for r in tables):
            rows = await connection.fetch(f'SELECT * FROM "{table}"')
            dump += repr([dict(r) for r in rows]).encode()
        keys = await connection.fetchval("SELECT count(*) FROM personal_data_keys")
    finally:
        await connection.close()
    return dump, keys


def assert_no_plaintext(blob: bytes, secrets: tuple[str, ...] = SECRETS) -> None:
    for secret in secrets:
        assert secret.encode() not in blob, f"{secret!r} found in clear"


def test_contacts_and_verifier_names_are_sealed_and_erasure_leaves_them_unreadable(api, postgres_url):
    enterprise = api.created("/enterprises", ENTERPRISE | CONTACT)
    keyed = api.client.post("/providers", json=PROVIDER, headers=api.admin | {"Idempotency-Key": "provider-1"})
    assert keyed.status_code == 201, keyed.text
    provider = keyed.json()["id"]
    verifier_body = {"card_number": "KĐV-0012", "full_name": VERIFIER_NAME, "fields": ["volume"]}
    verifier = api.created(f"/providers/{provider}/verifiers", verifier_body | {"certified_on": "2024-02-01"})
    shown = api.client.get(f"/enterprises/{enterprise}", headers=api.admin).json()
    assert (shown["contact_name"], shown["contact_email"]) == (CONTACT["contact_name"], CONTACT["contact_email"])
    [listed] = api.client.get(f"/providers/{provider}", headers=api.admin).json()["verifiers"]
    assert listed["full_name"] == VERIFIER_NAME
    records = api.published(3)
    [registered] = [r for r in records if r["type"].endswith("enterprise-registered.v1")]
    assert registered["data"]["contact"]["ciphertext"], "the contact travels, as ciphertext only"
    assert registered["actor"] == pseudonym("user-province-admin", DEV_ACTOR_PSEUDONYM_KEY)
    assert "user-province-admin" not in repr(records), "the token's subject is not in the events"

    assert api.client.delete(f"/enterprises/{enterprise}/contact", headers=api.admin).status_code == 200
    erased_again = api.client.delete(f"/enterprises/{enterprise}/contact", headers=api.admin)
    assert (erased_again.status_code, erased_again.json()["rule"]) == (409, "enterprise-contact-erased")
    path = f"/providers/{provider}/verifiers/{verifier}/personal-data"
    assert api.client.delete(path, headers=api.admin).status_code == 200
    assert api.client.delete(path, headers=api.admin).status_code == 409

    shown = api.client.get(f"/enterprises/{enterprise}", headers=api.admin).json()
    assert (shown["contact_name"], shown["contact_phone"], shown["name"]) == ("erased", "erased", ENTERPRISE["name"])
    [listed] = api.client.get(f"/providers/{provider}", headers=api.admin).json()["verifiers"]
    assert (listed["full_name"], listed["card_number"], listed["status"]) == ("erased", "KĐV-0012", "active")
    records = api.published(5)
    kinds = {r["type"].rsplit(".", 2)[-2] for r in records}
    assert {"enterprise-contact-erased", "verifier-personal-data-erased"} <= kinds
    dump, keys = asyncio.run(stored(postgres_url))
    assert_no_plaintext(dump + repr(records).encode(), (*SECRETS, "user-province-admin"))
    assert keys == 0, "both people's data keys are destroyed: their ciphertext can never be opened again"


def test_a_contact_named_after_an_erasure_is_sealed_under_a_new_key(api, postgres_url):
    enterprise = api.created("/enterprises", ENTERPRISE | CONTACT)
    assert api.client.delete(f"/enterprises/{enterprise}/contact", headers=api.admin).status_code == 200
    updated = api.client.patch(f"/enterprises/{enterprise}", json=NEW_CONTACT, headers=api.admin)
    assert updated.status_code == 200, updated.text
    assert api.client.get(f"/enterprises/{enterprise}", headers=api.admin).json()["contact_name"] == "Đặng Thị Mai"

    registered, _, changed = api.published(3)  # one stream: in order
    assert registered["data"]["contact"]["key_id"] != changed["data"]["contact"]["key_id"]
    dump, keys = asyncio.run(stored(postgres_url))
    assert_no_plaintext(dump, tuple(CONTACT.values()))
    assert keys == 1


def test_erasing_an_unknown_verifier_or_enterprise_is_not_found(api):
    provider = api.created("/providers", PROVIDER)
    missing_verifier = api.client.delete(f"/providers/{provider}/verifiers/nobody/personal-data", headers=api.admin)
    assert missing_verifier.status_code == 404
    assert api.client.delete("/enterprises/nobody/contact", headers=api.admin).status_code == 404
    viewer = api.token("viewer")
    assert api.client.delete(f"/providers/{provider}/verifiers/x/personal-data", headers=viewer).status_code == 403


async def one_sealed_person(settings: RegistrySettings) -> None:
    runtime = bootstrap(settings)
    try:
        await runtime.migrate()
        vault = PersonalDataVault(settings.personal_data_keys)
        async with runtime.sessions() as session, session.begin():
            await vault.keep(session, await vault.key(session, "verifier-1"))
    finally:
        await runtime.dispose()


def test_a_new_key_encryption_key_rewraps_every_data_key_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTRY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/registry.db")
    monkeypatch.setenv("ENVIRONMENT", "development")
    asyncio.run(one_sealed_person(RegistrySettings.from_env("registry")))
    newer = "v2:" + base64.b64encode(b"r" * 32).decode()
    monkeypatch.setenv("REGISTRY_PERSONAL_DATA_KEYS", f"{newer},{DEV_PERSONAL_DATA_KEYS}")

    first = CliRunner().invoke(app(), ["rewrap-personal-data-keys"])
    again = CliRunner().invoke(app(), ["rewrap-personal-data-keys"])

    assert first.exit_code == 0, first.output
    assert "1 of 1 data keys re-wrapped" in first.output
    assert "0 of 1 data keys re-wrapped" in again.output
