"""Envelope encryption of trainees' personal data (crypto-shredding).

Each trainee gets a random 256-bit data key; personal fields are sealed with AES-GCM under it (the trainee id
and key id as associated data). The data key is stored wrapped (AES-GCM under a key-encryption key, KEK) in the
`trainee_keys` table of the training database, never in an event. Erasure deletes that row: every copy of the
ciphertext, in the store, the query tables or Kafka, is then unreadable.

KEKs are versioned (`TRAINING_MASTER_KEYS` = "v2:<base64>,v1:<base64>", newest first): the newest wraps, any
unwraps (AES-GCM's tag tells which one fits). Rotation adds a version in front, then `rewrap` re-wraps every data
key under it without touching a single ciphertext; the old version can then be dropped.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from metrology.eventkit.database import DatabaseSession
from metrology.training.adapters.views import trainee_keys
from metrology.training.domain.events import SealedPersonalData
from metrology.training.domain.personal import PersonalData

if TYPE_CHECKING:
    from metrology.training.settings import TrainingSettings


class KeyDestroyedError(Exception):
    """The trainee's data key is gone (erased): the personal data can never be read again."""


@dataclass(frozen=True, slots=True)
class DataKey:
    key_id: str
    secret: bytes


@dataclass(frozen=True, slots=True)
class KeyEncryptionKey:
    version: str
    cipher: AESGCM


def parse_master_keys(value: str) -> list[KeyEncryptionKey]:
    """ "v2:<base64>,v1:<base64>" (newest first) as KEKs; each is 32 bytes."""
    keks = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        version, _, encoded = item.rpartition(":")
        secret = base64.b64decode(encoded)
        if not version or len(secret) != 32:
            raise ValueError("TRAINING_MASTER_KEYS holds 'version:base64 of 32 bytes' items, newest first")
        keks.append(KeyEncryptionKey(version, AESGCM(secret)))
    if not keks or len({k.version for k in keks}) != len(keks):
        raise ValueError("TRAINING_MASTER_KEYS needs at least one key and distinct versions")
    return keks


@dataclass(frozen=True, slots=True)
class RewrapSummary:
    keys: int
    rewrapped: int


class PersonalDataCipher:
    def __init__(self, keks: list[KeyEncryptionKey], digest_key: bytes) -> None:
        if len(digest_key) != 32:
            raise ValueError("the ID-number digest key is 32 bytes (base64 in TRAINING_ID_DIGEST_KEY)")
        self._keks = keks
        self._digest_key = hashlib.sha256(b"id-number-digest" + digest_key).digest()

    @classmethod
    def from_settings(cls, settings: TrainingSettings) -> PersonalDataCipher:
        return cls(parse_master_keys(settings.master_keys), base64.b64decode(settings.id_digest_key))

    @property
    def newest_version(self) -> str:
        return self._keks[0].version

    # -- keys --------------------------------------------------------------------------------------

    @staticmethod
    def new_key() -> DataKey:
        return DataKey(str(uuid.uuid4()), AESGCM.generate_key(bit_length=256))

    async def store(self, session: DatabaseSession, key: DataKey, trainee_id: str) -> None:
        """Keep the data key, wrapped under the newest KEK (after the events are appended)."""
        await session.execute(
            sa.insert(trainee_keys).values(
                key_id=key.key_id, trainee_id=trainee_id, wrapped_key=self._wrap(key), created_at=datetime.now(UTC)
            )
        )

    async def keys(self, connection: AsyncConnection | AsyncSession, key_ids: list[str]) -> dict[str, DataKey]:
        """The data keys still held among `key_ids` (an erased trainee's key is missing)."""
        if not key_ids:
            return {}
        query = sa.select(trainee_keys.c.key_id, trainee_keys.c.wrapped_key).where(trainee_keys.c.key_id.in_(key_ids))
        rows = (await connection.execute(query)).all()
        return {row.key_id: self._unwrap(row.key_id, bytes(row.wrapped_key)) for row in rows}

    @staticmethod
    async def destroy(session: DatabaseSession, key_id: str) -> None:
        await session.execute(sa.delete(trainee_keys).where(trainee_keys.c.key_id == key_id))

    async def rewrap(self, session: DatabaseSession, batch_size: int = 500) -> RewrapSummary:
        """Re-wrap every data key not yet under the newest KEK; the personal data's ciphertext stays as it is."""
        keys = rewrapped = 0
        after = ""
        while True:
            query = (
                sa.select(trainee_keys.c.key_id, trainee_keys.c.wrapped_key)
                .where(trainee_keys.c.key_id > after)
                .order_by(trainee_keys.c.key_id)
                .limit(batch_size)
            )
            rows = (await session.execute(query)).all()
            if not rows:
                return RewrapSummary(keys, rewrapped)
            for row in rows:
                keys += 1
                version, key = self._unwrap_versioned(row.key_id, bytes(row.wrapped_key))
                if version != self.newest_version:
                    rewrapped += 1
                    update = sa.update(trainee_keys).where(trainee_keys.c.key_id == row.key_id)
                    await session.execute(update.values(wrapped_key=self._wrap(key)))
            after = rows[-1].key_id

    def _wrap(self, key: DataKey) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._keks[0].cipher.encrypt(nonce, key.secret, key.key_id.encode())

    def _unwrap(self, key_id: str, wrapped: bytes) -> DataKey:
        return self._unwrap_versioned(key_id, wrapped)[1]

    def _unwrap_versioned(self, key_id: str, wrapped: bytes) -> tuple[str, DataKey]:
        for kek in self._keks:
            try:
                return kek.version, DataKey(key_id, kek.cipher.decrypt(wrapped[:12], wrapped[12:], key_id.encode()))
            except InvalidTag:
                continue
        raise ValueError(f"data key {key_id} opens under none of TRAINING_MASTER_KEYS (a KEK dropped too early?)")

    # -- data --------------------------------------------------------------------------------------

    def seal(
        self, key: DataKey, trainee_id: str, data: PersonalData, organisation_name: str | None = None
    ) -> SealedPersonalData:
        aad = f"{trainee_id}:{key.key_id}".encode()
        return SealedPersonalData(
            key_id=key.key_id,
            full_name=_encrypt(key, data.full_name, aad),
            date_of_birth=_encrypt(key, data.date_of_birth.isoformat(), aad),
            id_number=_encrypt(key, data.id_number, aad),
            phone=_encrypt(key, data.phone, aad) if data.phone else None,
            organisation_name=_encrypt(key, organisation_name, aad) if organisation_name else None,
        )

    @staticmethod
    def open(key: DataKey | None, trainee_id: str, sealed: SealedPersonalData) -> PersonalData:
        if key is None or key.key_id != sealed.key_id:
            raise KeyDestroyedError(f"no key {sealed.key_id}")
        aad = f"{trainee_id}:{key.key_id}".encode()
        return PersonalData(
            full_name=_decrypt(key, sealed.full_name, aad),
            date_of_birth=date.fromisoformat(_decrypt(key, sealed.date_of_birth, aad)),
            id_number=_decrypt(key, sealed.id_number, aad),
            phone=_decrypt(key, sealed.phone, aad) if sealed.phone else None,
        )

    def id_digest(self, id_number: str) -> str:
        """A keyed digest to find a person by ID number without storing it; dropped on erasure."""
        return hmac.new(self._digest_key, id_number.strip().encode(), hashlib.sha256).hexdigest()


def _encrypt(key: DataKey, text: str, aad: bytes) -> str:
    nonce = os.urandom(12)
    return base64.b64encode(nonce + AESGCM(key.secret).encrypt(nonce, text.encode(), aad)).decode()


def _decrypt(key: DataKey, value: str, aad: bytes) -> str:
    raw = base64.b64decode(value)
    try:
        return AESGCM(key.secret).decrypt(raw[:12], raw[12:], aad).decode()
    except InvalidTag as error:
        raise KeyDestroyedError("the ciphertext does not open with this key") from error
