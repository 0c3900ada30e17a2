"""Standard Webhooks signatures (https://www.standardwebhooks.com, "Signature scheme").

`webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">`, with the secret
shown as `whsec_<base64 of its bytes>`; several signatures are separated by spaces (secret rotation).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret in its shareable form, `whsec_<base64>`."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_bytes(secret: str) -> bytes:
    """The key bytes of a `whsec_<base64>` secret (the prefix is optional, as in the reference library)."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    return base64.b64decode(encoded + "=" * (-len(encoded) % 4))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """One `v1,<base64>` signature of the body under `secret`."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True, slots=True)
class SignedHeaders:
    message_id: str
    timestamp: int
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {
            "webhook-id": self.message_id,
            "webhook-timestamp": str(self.timestamp),
            "webhook-signature": self.signature,
        }


def signed_headers(secrets_in_use: Iterable[str], message_id: str, timestamp: int, body: bytes) -> SignedHeaders:
    """The three Standard Webhooks headers, signed with every secret in use (newest first)."""
    signatures = " ".join(sign(secret, message_id, timestamp, body) for secret in secrets_in_use)
    if not signatures:
        raise ValueError("a delivery needs at least one secret to sign with")
    return SignedHeaders(message_id, timestamp, signatures)
