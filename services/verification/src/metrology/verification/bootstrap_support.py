"""Small helpers the entrypoints take from the runtime."""

from __future__ import annotations

from metrology.servicekit.runtime import ServiceRuntime
from metrology.verification.domain.certificates import QrSigner
from metrology.verification.settings import VerificationSettings


def signer_of(runtime: ServiceRuntime) -> QrSigner:
    """The QR signer, keyed by the service's `qr_secret` (or the JWT secret under plain settings)."""
    settings = runtime.settings
    return QrSigner(settings.qr_secret if isinstance(settings, VerificationSettings) else settings.auth_jwt_secret)
