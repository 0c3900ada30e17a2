"""Settings of the registry service (REGISTRY_* in the environment, then the shared names)."""

from pydantic import Field

from metrology.servicekit.personal_data import DEV_PERSONAL_DATA_KEYS, development_keys_in
from metrology.servicekit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    http_port: int = 8001
    personal_data_keys: str = Field(
        DEV_PERSONAL_DATA_KEYS,
        description="Key-encryption keys wrapping each person's data key (enterprise contacts, verifiers), "
        "'version:base64 of 32 bytes', comma-separated, newest first: the newest wraps, any unwraps",
    )

    def secrets(self) -> dict[str, tuple[str | None, set[str]]]:
        keys = DEV_PERSONAL_DATA_KEYS if development_keys_in(self.personal_data_keys) else self.personal_data_keys
        return {"REGISTRY_PERSONAL_DATA_KEYS": (keys, {DEV_PERSONAL_DATA_KEYS})}
