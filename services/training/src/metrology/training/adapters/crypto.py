"""Envelope encryption of trainees' personal data (crypto-shredding).

Each trainee gets a random 256-bit data key; personal fields are sealed with AES-GCM under it (the trainee id
and key id as associated data). The data key is stored wrapped (AES-GCM under the service's master key) in the
`trainee_keys` table of the training database, never in an event. Erasure deletes that row: every copy of the
ciphertext, in the store, the query tables or Kafka, is then unreadable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from metrology.training.adapters.views import trainee_keys
from metrology.training.domain.events import SealedPersonalData
from metrology.training.domain.personal import PersonalData


class KeyDestroyedError(Exception):
    """The trainee's data key is gone (erased): the personal data can never be read again."""


@dataclass(frozen=True, slots=True)
class DataKey:
    key_id: str
    secret: bytes


class PersonalDataCipher:
    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the master key is 32 bytes (base64 in TRAINING_MASTER_KEY)")
        self._master = AESGCM(master_key)
        self._digest_key = hashlib.sha256(b"id-number-digest" + master_key).digest()

    @classmethod
    def from_setting(cls, value: str) -> PersonalDataCipher:
        return cls(base64.b64decode(value))

    # -- keys --------------------------------------------------------------------------------------

    @staticmethod
    def new_key() -> DataKey:
        return DataKey(str(uuid.uuid4()), AESGCM.generate_key(bit_length=256))

    async def store(self, session: AsyncSession, key: DataKey, trainee_id: str) -> None:
        """Keep the data key, wrapped under the master key (after the events are appended)."""
        nonce = os.urandom(12)
        wrapped = nonce + self._master.encrypt(nonce, key.secret, key.key_id.encode())
        await session.execute(
            sa.insert(trainee_keys).values(
                key_id=key.key_id, trainee_id=trainee_id, wrapped_key=wrapped, created_at=datetime.now(UTC)
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
    async def destroy(session: AsyncSession, key_id: str) -> None:
        await session.execute(sa.delete(trainee_keys).where(trainee_keys.c.key_id == key_id))

    def _unwrap(self, key_id: str, wrapped: bytes) -> DataKey:
        return DataKey(key_id, self._master.decrypt(wrapped[:12], wrapped[12:], key_id.encode()))

    # -- data --------------------------------------------------------------------------------------

    def seal(self, key: DataKey, trainee_id: str, data: PersonalData) -> SealedPersonalData:
        aad = f"{trainee_id}:{key.key_id}".encode()
        return SealedPersonalData(
            key_id=key.key_id,
            full_name=_encrypt(key, data.full_name, aad),
            date_of_birth=_encrypt(key, data.date_of_birth.isoformat(), aad),
            id_number=_encrypt(key, data.id_number, aad),
            phone=_encrypt(key, data.phone, aad) if data.phone else None,
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
