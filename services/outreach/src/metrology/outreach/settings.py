"""Settings of the outreach service (OUTREACH_* in the environment, then the shared names)."""

from pydantic import Field

from metrology.servicekit.personal_data import DEV_PERSONAL_DATA_KEYS, development_keys_in
from metrology.servicekit.settings import ServiceSettings


class OutreachSettings(ServiceSettings):
    http_port: int = 8003
    personal_data_keys: str = Field(
        DEV_PERSONAL_DATA_KEYS,
        description="Key-encryption keys wrapping each contact person's data key, 'version:base64 of 32 bytes', "
        "comma-separated, newest first: the newest wraps, any unwraps",
    )

    def secrets(self) -> dict[str, tuple[str | None, set[str]]]:
        keys = DEV_PERSONAL_DATA_KEYS if development_keys_in(self.personal_data_keys) else self.personal_data_keys
        return {"OUTREACH_PERSONAL_DATA_KEYS": (keys, {DEV_PERSONAL_DATA_KEYS})}
