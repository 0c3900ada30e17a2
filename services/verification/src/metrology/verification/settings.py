"""Settings of the verification service (VERIFICATION_* in the environment, then the shared names)."""

from pydantic import Field

from metrology.servicekit.settings import ServiceSettings


class VerificationSettings(ServiceSettings):
    http_port: int = 8002
    qr_secret: str = Field(
        "dev-only-qr-secret-change-me-0123456789",
        description="Signs the QR payload printed on certificates and stickers (HMAC-SHA256)",
    )
