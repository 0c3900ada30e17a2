"""Personal data in events, crypto-shredded per person, and the pseudonymous actor.

A person (a subject such as `verifier-<id>` or `enterprise-contact-<id>`) gets a random 256-bit data key the
first time their data is sealed; the fields are sealed together as one AES-GCM ciphertext (the subject and key
id as associated data) and only that ciphertext and the key id travel in events. The data key is kept wrapped
under a key-encryption key (KEK) in the service's `personal_data_keys` table, never in an event. Erasure deletes
the row: every copy of the ciphertext, in the store, in Kafka or in a read model, can then never be opened.

KEKs are versioned ("v2:<base64>,v1:<base64>", newest first): the newest wraps, any unwraps, and `rewrap`
re-wraps every data key under the newest without touching a ciphertext (as the training service does).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import sqlalchemy as sa
import typer
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.eventkit import event_loop
from metrology.eventkit.database import DatabaseSession
from metrology.eventkit.sealed import SealedPersonalData
from metrology.eventkit.store import metadata
from metrology.servicekit.command_settings import migrate_or_exit, production_ready_settings
from metrology.servicekit.settings import ServiceSettings

if TYPE_CHECKING:
    from metrology.servicekit.runtime import ServiceRuntime

DEV_PERSONAL_DATA_KEYS = "dev:ZGV2LW9ubHktcGVyc29uYWwtZGF0YS1rZXktY2hnMzI="  # 32 bytes, local runs and tests only
ERASED = "erased"  # what read models show in place of erased personal data

personal_data_keys = sa.Table(
    "personal_data_keys",
    metadata,
    sa.Column("subject", sa.String(200), primary_key=True),
    sa.Column("key_id", sa.String(64), nullable=False, unique=True),
    sa.Column("wrapped_key", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True, slots=True)
class DataKey:
    subject: str
    key_id: str
    secret: bytes
    new: bool = False


@dataclass(frozen=True, slots=True)
class _Kek:
    version: str
    cipher: AESGCM


def parse_key_encryption_keys(value: str, name: str = "PERSONAL_DATA_KEYS") -> list[_Kek]:
    """ "v2:<base64>,v1:<base64>" (newest first) as KEKs of 32 bytes each."""
    keks = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        version, _, encoded = item.rpartition(":")
        secret = base64.b64decode(encoded)
        if not version or len(secret) != 32:
            raise ValueError(f"{name} holds 'version:base64 of 32 bytes' items, newest first")
        keks.append(_Kek(version, AESGCM(secret)))
    if not keks or len({k.version for k in keks}) != len(keks):
        raise ValueError(f"{name} needs at least one key and distinct versions")
    return keks


class PersonalDataVault:
    """Seal, open and erase personal data per person (the subject), with the keys in `personal_data_keys`."""

    def __init__(self, key_encryption_keys: str, name: str = "PERSONAL_DATA_KEYS") -> None:
        self._keks = parse_key_encryption_keys(key_encryption_keys, name)
        self._name = name

    async def key(self, session: DatabaseSession | AsyncConnection, subject: str) -> DataKey:
        """The person's data key, or a new one to `keep` after the command's events are appended."""
        query = sa.select(personal_data_keys).where(personal_data_keys.c.subject == subject)
        row = (await session.execute(query)).first()
        if row is None:
            return DataKey(subject, str(uuid.uuid4()), AESGCM.generate_key(bit_length=256), new=True)
        return DataKey(subject, row.key_id, self._unwrap(row.key_id, bytes(row.wrapped_key))[1])

    async def keep(self, session: DatabaseSession, key: DataKey) -> None:
        """Store a new key, wrapped under the newest KEK (the event append comes first in a transaction)."""
        if key.new:
            row = {"subject": key.subject, "key_id": key.key_id, "wrapped_key": self._wrap(key.key_id, key.secret)}
            await session.execute(sa.insert(personal_data_keys).values(**row, created_at=datetime.now(UTC)))

    async def erase(self, session: DatabaseSession, subject: str) -> bool:
        """Destroy the person's data key; False when there was none (never sealed, or erased already)."""
        result = await session.execute(sa.delete(personal_data_keys).where(personal_data_keys.c.subject == subject))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def open(
        self, session: DatabaseSession | AsyncConnection, subject: str, sealed: SealedPersonalData | None
    ) -> dict[str, Any] | None:
        """The sealed fields, or None when the person's key is gone (erased) or nothing was sealed."""
        if sealed is None:
            return None
        key = await self.key(session, subject)
        return None if key.new else self.open_with(key, sealed)

    @staticmethod
    def seal(key: DataKey, fields: dict[str, Any]) -> SealedPersonalData:
        nonce = os.urandom(12)
        plain = json.dumps(fields, ensure_ascii=False, sort_keys=True).encode()
        ciphertext = AESGCM(key.secret).encrypt(nonce, plain, _aad(key.subject, key.key_id))
        return SealedPersonalData(key_id=key.key_id, ciphertext=base64.b64encode(nonce + ciphertext).decode())

    @staticmethod
    def open_with(key: DataKey, sealed: SealedPersonalData) -> dict[str, Any] | None:
        if key.key_id != sealed.key_id:
            return None  # sealed under a key erased since (the person's data was then sealed anew)
        raw = base64.b64decode(sealed.ciphertext)
        try:
            plain = AESGCM(key.secret).decrypt(raw[:12], raw[12:], _aad(key.subject, key.key_id))
        except InvalidTag:
            return None
        data: dict[str, Any] = json.loads(plain)
        return data

    async def rewrap(self, session: DatabaseSession, batch_size: int = 500) -> int:
        """Re-wrap every data key not yet under the newest KEK; returns how many were re-wrapped."""
        rewrapped, after = 0, ""
        while True:
            query = (
                sa.select(personal_data_keys)
                .where(personal_data_keys.c.subject > after)
                .order_by(personal_data_keys.c.subject)
                .limit(batch_size)
            )
            rows = (await session.execute(query)).all()
            if not rows:
                return rewrapped
            for row in rows:
                version, secret = self._unwrap(row.key_id, bytes(row.wrapped_key))
                if version != self._keks[0].version:
                    rewrapped += 1
                    update = sa.update(personal_data_keys).where(personal_data_keys.c.subject == row.subject)
                    await session.execute(update.values(wrapped_key=self._wrap(row.key_id, secret)))
            after = rows[-1].subject

    def _wrap(self, key_id: str, secret: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._keks[0].cipher.encrypt(nonce, secret, key_id.encode())

    def _unwrap(self, key_id: str, wrapped: bytes) -> tuple[str, bytes]:
        for kek in self._keks:
            try:
                return kek.version, kek.cipher.decrypt(wrapped[:12], wrapped[12:], key_id.encode())
            except InvalidTag:
                continue
        raise ValueError(f"data key {key_id} opens under none of {self._name} (a KEK dropped too early?)")


def _aad(subject: str, key_id: str) -> bytes:
    return f"{subject}:{key_id}".encode()


@functools.lru_cache(maxsize=4096)
def pseudonym(subject: str, key: str) -> str:
    """The actor as events carry it: HMAC-SHA256 of the token's subject, stable per person, not reversible.
    Remembered for the last few thousand subjects: every command of a token computes it again."""
    return "p-" + hmac.new(key.encode(), subject.encode(), hashlib.sha256).hexdigest()


def development_keys_in(value: str) -> bool:
    """Whether the development KEK is among the configured ones (production refuses it anywhere in the list)."""
    return DEV_PERSONAL_DATA_KEYS in (part.strip() for part in value.split(","))


async def vault_of(request: Request) -> PersonalDataVault:
    """The service's vault, built once from its settings' `personal_data_keys` (async, so that FastAPI runs it on
    the event loop, not a worker thread).

    The services that seal declare that setting (and check it at start-up in production); a runtime built from
    the bare `ServiceSettings` (tests wiring a service by hand) gets the development keys.
    """
    state = request.app.state
    if not hasattr(state, "personal_data_vault"):
        settings = state.runtime.settings
        name = f"{settings.service_name.upper()}_PERSONAL_DATA_KEYS"
        keys = getattr(settings, "personal_data_keys", DEV_PERSONAL_DATA_KEYS)
        state.personal_data_vault = PersonalDataVault(keys, name)
    vault: PersonalDataVault = state.personal_data_vault
    return vault


Vault = Annotated[PersonalDataVault, Depends(vault_of)]


def rewrap_command(
    service: str, bootstrap: Callable[[Any], ServiceRuntime], settings_type: type[ServiceSettings]
) -> Callable[[], None]:
    """`metrology-<service> rewrap-personal-data-keys`: every data key re-wrapped under the newest KEK, in one
    transaction (no ciphertext is touched); run after putting a new version in front of <SERVICE>_PERSONAL_DATA_KEYS."""

    def rewrap_personal_data_keys() -> None:
        """Re-wrap every person's data key under the newest of <SERVICE>_PERSONAL_DATA_KEYS."""
        settings = production_ready_settings(settings_type, service)
        vault = PersonalDataVault(settings.model_dump()["personal_data_keys"], f"{service.upper()}_PERSONAL_DATA_KEYS")
        rewrapped, held = event_loop.run(_rewrap_all(bootstrap(settings), vault))
        typer.echo(f"{service}: {rewrapped} of {held} data keys re-wrapped under the newest key")

    return rewrap_personal_data_keys


async def _rewrap_all(runtime: ServiceRuntime, vault: PersonalDataVault) -> tuple[int, int]:
    try:
        await migrate_or_exit(runtime)
        async with runtime.sessions() as session, session.begin():
            rewrapped = await vault.rewrap(session)
            held = await session.scalar(sa.select(sa.func.count()).select_from(personal_data_keys))
        return rewrapped, int(held or 0)
    finally:
        await runtime.dispose()
