"""Personal data is sealed per person, opens while the person's key exists and never after erasure; KEKs rotate
without touching a ciphertext; the actor is a keyed pseudonym; production refuses the development actor key."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from metrology.servicekit.personal_data import (
    DEV_PERSONAL_DATA_KEYS,
    PersonalDataVault,
    personal_data_keys,
    pseudonym,
)
from metrology.servicekit.settings import DEV_ACTOR_PSEUDONYM_KEY, InsecureSettingsError, ServiceSettings

NEW_KEK = "v2:" + base64.b64encode(b"n" * 32).decode()


@pytest.fixture
async def session() -> AsyncIterator[AsyncSession]:
    engine = create_async_engine("sqlite+aiosqlite://")
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: personal_data_keys.create(sync))
    async with async_sessionmaker(engine)() as session:
        yield session
    await engine.dispose()


async def sealed_name(vault: PersonalDataVault, session: AsyncSession, subject: str, name: str):
    key = await vault.key(session, subject)
    sealed = vault.seal(key, {"full_name": name})
    await vault.keep(session, key)
    return sealed


async def test_sealed_data_opens_for_its_person_and_carries_no_plaintext(session):
    vault = PersonalDataVault(DEV_PERSONAL_DATA_KEYS)
    sealed = await sealed_name(vault, session, "verifier-1", "Trần Thị Bích")
    assert "Trần" not in sealed.model_dump_json() and "Bích".encode() not in base64.b64decode(sealed.ciphertext)
    assert await vault.open(session, "verifier-1", sealed) == {"full_name": "Trần Thị Bích"}
    assert await vault.open(session, "verifier-2", sealed) is None, "another person's key does not fit"


async def test_one_person_keeps_one_key_until_erased(session):
    vault = PersonalDataVault(DEV_PERSONAL_DATA_KEYS)
    first = await sealed_name(vault, session, "verifier-1", "A")
    second = await sealed_name(vault, session, "verifier-1", "B")
    assert first.key_id == second.key_id
    assert await session.scalar(sa.select(sa.func.count()).select_from(personal_data_keys)) == 1


async def test_erasure_destroys_the_key_so_no_copy_opens_again(session):
    vault = PersonalDataVault(DEV_PERSONAL_DATA_KEYS)
    sealed = await sealed_name(vault, session, "enterprise-contact-7", "Nguyễn Văn An")
    assert await vault.erase(session, "enterprise-contact-7") is True
    assert await vault.erase(session, "enterprise-contact-7") is False, "nothing left to erase"
    assert await vault.open(session, "enterprise-contact-7", sealed) is None
    again = await sealed_name(vault, session, "enterprise-contact-7", "Lê Thị Hoa")
    assert again.key_id != sealed.key_id, "data sealed after an erasure gets a new key"
    assert await vault.open(session, "enterprise-contact-7", sealed) is None


async def test_a_new_kek_rewraps_keys_and_old_ciphertexts_still_open(session):
    sealed = await sealed_name(PersonalDataVault(DEV_PERSONAL_DATA_KEYS), session, "verifier-1", "Trần Thị Bích")
    rotated = PersonalDataVault(f"{NEW_KEK},{DEV_PERSONAL_DATA_KEYS}")
    assert await rotated.rewrap(session) == 1
    assert await rotated.rewrap(session) == 0
    only_new = PersonalDataVault(NEW_KEK)
    assert await only_new.open(session, "verifier-1", sealed) == {"full_name": "Trần Thị Bích"}


def test_malformed_key_encryption_keys_are_refused():
    with pytest.raises(ValueError, match="version:base64"):
        PersonalDataVault("v1:" + base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="distinct versions"):
        PersonalDataVault(f"{NEW_KEK},{NEW_KEK}")


def test_the_actor_is_a_stable_pseudonym_that_does_not_reveal_the_subject():
    actor = pseudonym("nguyen.van.an@bentre.gov.vn", "k" * 32)
    assert actor == pseudonym("nguyen.van.an@bentre.gov.vn", "k" * 32)
    assert "nguyen" not in actor and actor.startswith("p-") and len(actor) == 66
    assert actor != pseudonym("nguyen.van.an@bentre.gov.vn", "j" * 32), "another key, another pseudonym"


def test_production_refuses_the_development_actor_pseudonym_key(tmp_path):
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    with pytest.raises(InsecureSettingsError, match="ACTOR_PSEUDONYM_KEY is a development default"):
        ServiceSettings(auth_jwks_file=str(jwks), actor_pseudonym_key=DEV_ACTOR_PSEUDONYM_KEY).ensure_production_ready()
    with pytest.raises(InsecureSettingsError, match="ACTOR_PSEUDONYM_KEY is empty"):
        ServiceSettings(auth_jwks_file=str(jwks), actor_pseudonym_key="").ensure_production_ready()
