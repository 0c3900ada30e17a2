"""Settings of the training service (TRAINING_* in the environment, then the shared names)."""

from pydantic import Field

from metrology.servicekit.settings import ServiceSettings

DEV_MASTER_KEY = "ZGV2LW9ubHktbWFzdGVyLWtleS1jaGFuZ2UtbWUtMzI="  # 32 bytes, for local runs and tests only


class TrainingSettings(ServiceSettings):
    http_port: int = 8004
    master_key: str = Field(
        DEV_MASTER_KEY,
        description="Base64 of the 32-byte key that wraps each trainee's data key (from a secret store in production)",
    )
