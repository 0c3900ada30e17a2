"""Settings of the verification service (VERIFICATION_* in the environment, then the shared names)."""

from pydantic import Field

from metrology.servicekit.settings import ServiceSettings

DEV_QR_SECRET = "dev-only-qr-secret-change-me-0123456789"  # for local runs and tests only


class VerificationSettings(ServiceSettings):
    http_port: int = 8002
    qr_secret: str = Field(
        DEV_QR_SECRET,
        description="Signs the QR payload printed on certificates and stickers (HMAC-SHA256)",
    )
    database_pool_size: int = Field(
        24,
        ge=1,
        description=(
            "PostgreSQL connections kept open: at least the concurrent requests plus the relay and the replica. "
            "Connections past it are opened per request and closed after it (a new backend each time)."
        ),
    )
    database_max_overflow: int = Field(16, ge=0, description="Connections opened beyond the pool under bursts")
    public_base_url: str | None = Field(
        None,
        pattern=r"^https?://[^\s]+$",
        description="The public address of this service (e.g. https://kiemdinh.example.gov.vn), encoded in the QR "
        "codes of printed certificates; default: the address the request came to",
    )
    due_sweep_seconds: float = Field(
        0.0,
        ge=0,
        description="How often the consumer process raises instrument-fell-overdue for passed due dates, first at "
        "start (0: not in the process; deployments set 3600; `metrology-verification sweep-due` runs it by hand)",
    )

    def secrets(self) -> dict[str, tuple[str | None, set[str]]]:
        return {"VERIFICATION_QR_SECRET": (self.qr_secret, {DEV_QR_SECRET})}
