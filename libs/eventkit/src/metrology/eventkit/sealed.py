"""A person's fields as events carry them: one ciphertext under the person's data key (crypto-shredding).

The key lives only in the producing service's `personal_data_keys` table (`metrology.servicekit.personal_data`);
erasing the person deletes it, and every copy of the ciphertext (store, Kafka, read models) stays unreadable.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SealedPersonalData(BaseModel):
    """Personal fields sealed per person: readable only while the person's data key exists."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key_id: str = Field(description="The person's data key (destroyed on erasure)")
    ciphertext: str = Field(description="Base64 of nonce + AES-GCM ciphertext of the fields as a JSON object")
