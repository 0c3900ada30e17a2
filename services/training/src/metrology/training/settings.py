"""Settings of the training service (TRAINING_* in the environment, then the shared names)."""

from pydantic import Field

from metrology.servicekit.settings import ServiceSettings

DEV_MASTER_KEY = "ZGV2LW9ubHktbWFzdGVyLWtleS1jaGFuZ2UtbWUtMzI="  # 32 bytes, for local runs and tests only
DEV_MASTER_KEYS = f"dev:{DEV_MASTER_KEY}"
DEV_ID_DIGEST_KEY = "ZGV2LW9ubHktaWQtbnVtYmVyLWRpZ2VzdC1rZXktMzI="  # 32 bytes, for local runs and tests only


class TrainingSettings(ServiceSettings):
    http_port: int = 8004
    master_keys: str = Field(
        DEV_MASTER_KEYS,
        description="Key-encryption keys that wrap each trainee's data key, 'version:base64 of 32 bytes', "
        "comma-separated, newest first: the newest wraps, any unwraps (rotate, then run rewrap-keys)",
    )
    id_digest_key: str = Field(
        DEV_ID_DIGEST_KEY,
        description="Base64 of the 32-byte key of the ID-number digest (finding a trainee by ID number); "
        "never rotated: a new key would orphan every stored digest",
    )

    def secrets(self) -> dict[str, tuple[str | None, set[str]]]:
        development_keys = {DEV_MASTER_KEYS, DEV_MASTER_KEY}
        master_keys = self.master_keys
        if any(key.partition(":")[2].strip() == DEV_MASTER_KEY for key in master_keys.split(",")):
            master_keys = DEV_MASTER_KEYS  # a development key anywhere in the list
        return {
            "TRAINING_MASTER_KEYS": (master_keys, development_keys),
            "TRAINING_ID_DIGEST_KEY": (self.id_digest_key, {DEV_ID_DIGEST_KEY}),
        }
