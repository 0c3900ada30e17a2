"""Key-encryption-key rotation: the newest KEK wraps, any opens, and `rewrap-keys` moves every data key to the
newest without touching the personal data's ciphertext. Production refuses development keys."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from metrology.servicekit.settings import InsecureSettingsError
from metrology.training.adapters.crypto import PersonalDataCipher
from metrology.training.adapters.views import trainee_keys
from metrology.training.bootstrap import bootstrap
from metrology.training.domain.personal import PersonalData
from metrology.training.settings import DEV_MASTER_KEY, TrainingSettings

PERSON = PersonalData("Lê Thị Hồng", date(1990, 5, 14), "083190001234", "0912345678")
DIGEST_KEY = base64.b64encode(os.urandom(32)).decode()
COMMAND = str(Path(sys.executable).with_name("metrology-training"))


def kek() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def settings(tmp_path: Path, master_keys: str) -> TrainingSettings:
    return TrainingSettings(
        service_name="training",
        environment="development",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/training.db",
        master_keys=master_keys,
        id_digest_key=DIGEST_KEY,
    )


async def wrapped_keys(config: TrainingSettings) -> dict[str, bytes]:
    runtime = bootstrap(config)
    async with runtime.engine.connect() as connection:
        rows = (await connection.execute(sa.select(trainee_keys.c.key_id, trainee_keys.c.wrapped_key))).all()
    await runtime.dispose()
    return {row.key_id: bytes(row.wrapped_key) for row in rows}


async def store_keys(config: TrainingSettings, count: int) -> dict[str, object]:
    runtime = bootstrap(config)
    await runtime.migrate()
    cipher = PersonalDataCipher.from_settings(config)
    sealed = {}
    async with runtime.sessions() as session, session.begin():
        for n in range(count):
            key = cipher.new_key()
            await cipher.store(session, key, f"t{n}")
            sealed[key.key_id] = cipher.seal(key, f"t{n}", PERSON)
    await runtime.dispose()
    return sealed


def rewrap(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COMMAND, "rewrap-keys"], env=env, capture_output=True, text=True, timeout=120)


async def test_after_rewrap_every_data_key_opens_with_the_newest_kek_alone_and_the_ciphertext_is_unchanged(tmp_path):
    v1, v2 = kek(), kek()
    sealed = await store_keys(settings(tmp_path, f"v1:{v1}"), 3)
    before = await wrapped_keys(settings(tmp_path, f"v1:{v1}"))

    rotated = settings(tmp_path, f"v2:{v2},v1:{v1}")
    env = os.environ | {
        "ENVIRONMENT": "development",
        "TRAINING_DATABASE_URL": rotated.database_url,
        "TRAINING_MASTER_KEYS": rotated.master_keys,
        "TRAINING_ID_DIGEST_KEY": DIGEST_KEY,
    }
    done = await asyncio.to_thread(rewrap, env)
    assert done.returncode == 0, done.stderr
    assert "3 of 3 data keys re-wrapped" in done.stdout

    after = await wrapped_keys(rotated)
    assert after.keys() == before.keys() and all(after[k] != before[k] for k in after)
    only_v2 = settings(tmp_path, f"v2:{v2}")
    runtime = bootstrap(only_v2)
    async with runtime.engine.connect() as connection:
        keys = await PersonalDataCipher.from_settings(only_v2).keys(connection, list(sealed))
    await runtime.dispose()
    for n, (key_id, data) in enumerate(sealed.items()):
        assert PersonalDataCipher.open(keys[key_id], f"t{n}", data) == PERSON  # type: ignore[arg-type]

    again = await asyncio.to_thread(rewrap, env)
    assert "0 of 3 data keys re-wrapped" in again.stdout


async def test_a_key_wrapped_under_an_older_kek_opens_while_that_kek_is_listed(tmp_path):
    v1, v2 = kek(), kek()
    sealed = await store_keys(settings(tmp_path, f"v1:{v1}"), 1)
    rotated = settings(tmp_path, f"v2:{v2},v1:{v1}")
    runtime = bootstrap(rotated)
    async with runtime.engine.connect() as connection:
        keys = await PersonalDataCipher.from_settings(rotated).keys(connection, list(sealed))
    await runtime.dispose()
    assert set(keys) == set(sealed)


@pytest.mark.parametrize(
    ("variable", "master_keys", "digest_key"),
    [
        ("TRAINING_MASTER_KEYS", "", DIGEST_KEY),
        ("TRAINING_MASTER_KEYS", f"v2:{kek()},dev:{DEV_MASTER_KEY}", DIGEST_KEY),
        ("TRAINING_ID_DIGEST_KEY", f"v1:{kek()}", None),
    ],
)
def test_production_refuses_an_empty_or_development_key(variable, master_keys, digest_key):
    config = TrainingSettings(auth_jwks_file="/etc/jwks.json", master_keys=master_keys)
    if digest_key:
        config.id_digest_key = digest_key
    with pytest.raises(InsecureSettingsError, match=variable):
        config.ensure_production_ready()


def test_the_service_refuses_to_start_in_production_with_development_keys_naming_each_setting(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TRAINING_", "AUTH_", "ENVIRONMENT"))}
    env["TRAINING_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path}/training.db"
    done = subprocess.run([COMMAND, "serve", "--port", "1"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for variable in ("AUTH_JWKS_URL", "TRAINING_MASTER_KEYS", "TRAINING_ID_DIGEST_KEY"):
        assert variable in lines[0]
    assert not (tmp_path / "training.db").exists()
