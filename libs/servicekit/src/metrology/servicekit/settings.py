"""Typed settings read from the environment: `<SERVICE>_KEY` first, then `KEY`, then the default."""

from __future__ import annotations

import os
import socket
from typing import Any, Literal, Self

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from metrology.eventkit.kafka import KafkaConnection

DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"  # HS256, development only
DEV_ACTOR_PSEUDONYM_KEY = "dev-only-actor-pseudonym-key-change-me"  # development only


def invalid_settings(error: ValidationError) -> str:
    """One line naming each setting that does not fit, by its variable's name, and why (never its value: it may be
    a secret)."""
    return "; ".join(f"{'.'.join(map(str, each['loc'])).upper()}: {each['msg']}" for each in error.errors())


class InsecureSettingsError(Exception):
    """A secret is empty or a development default outside ENVIRONMENT=development: the service must not start."""


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="")

    service_name: str = "service"
    database_url: str = ""
    database_pool_size: int = Field(
        10,
        ge=1,
        description=(
            "PostgreSQL connections the service keeps open, for its commands, reads, relay and consumers: at least "
            "the concurrent requests plus the relay and the consumers. Each one needed past it is a new backend, "
            "opened for one request and closed after it"
        ),
    )
    database_max_overflow: int = Field(
        20, ge=0, description="PostgreSQL connections opened beyond the pool under bursts"
    )
    database_wait_seconds: float = Field(
        30.0, ge=0, description="At start, how long to keep trying a database that is not available yet"
    )
    events_kept: int = Field(
        20_000,
        ge=0,
        description="Events a process keeps decoded, of the streams its commands read lately (the least recently "
        "read dropped first), so that its commands read each of those streams from its last known event",
    )
    gc_young_threshold: int = Field(
        10_000,
        ge=100,
        description="Allocations between collections of Python's young generation (Python's own default: 700)",
    )
    gc_young_threshold_folds: int = Field(
        100_000,
        ge=100,
        description="The same for `consume` and `rebuild`: above what a fold holds at once (the batch in the database "
        "and the next one read, ~20 objects a record), so that a batch's records die before a collection visits them",
    )
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security_protocol: str = "PLAINTEXT"
    kafka_sasl_mechanism: str | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: str | None = None
    kafka_ssl_cafile: str | None = None
    kafka_topic_prefix: str = Field("", description="Prepended to every topic and consumer group (isolates test runs)")
    kafka_group_instance_id: str | None = Field(
        None,
        description="Static group membership id of this process (unique per consumer process); empty: dynamic "
        "membership; unset: the host name (a pod's name on Kubernetes)",
    )
    kafka_partitions: int = 3
    kafka_replication_factor: int = 1
    tenant: str = Field("83", description="Province code of the default tenant (83: Bến Tre)")
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    environment: Literal["development", "production"] = Field(
        "production",
        description="development: development secrets and HS256 tokens are accepted; production (the default): "
        "the service refuses to start while any secret is empty or a development default",
    )
    auth_jwt_secret: str = Field(DEV_JWT_SECRET, description="HS256 shared secret of development tokens")
    auth_jwks_url: str | None = Field(None, description="The identity provider's JWKS (tokens name their key: kid)")
    auth_jwks_file: str | None = Field(None, description="A JWKS document on disk, instead of AUTH_JWKS_URL")
    auth_audience: str = Field("metrology", description="The audience (aud) every token must name")
    auth_issuer: str = Field("metrology-dev", description="The issuer (iss) every token must name")
    actor_pseudonym_key: str = Field(
        DEV_ACTOR_PSEUDONYM_KEY,
        description="HMAC-SHA256 key turning a token's subject into the pseudonymous actor events carry "
        "(the same in every service, so one person is one actor platform-wide)",
    )
    http_max_body_bytes: int = Field(1024 * 1024, ge=1024, description="Largest request body (JSON) in bytes")
    http_max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, description="Largest spreadsheet upload (CSV or XLSX import) in bytes"
    )
    log_level: str = "INFO"
    log_json: bool = True
    otel_exporter_otlp_endpoint: str | None = None
    run_relay: bool = True
    run_consumers: bool = True
    data_dir: str = ".run/data"

    @classmethod
    def from_env(cls, service: str, **overrides: Any) -> Self:
        prefix = f"{service.upper()}_"
        prefixed = {
            key[len(prefix) :].lower(): value
            for key, value in os.environ.items()
            if key.startswith(prefix) and key[len(prefix) :].lower() in cls.model_fields
        }
        settings = cls(**({"service_name": service} | prefixed | overrides))
        if not settings.database_url:
            settings.database_url = f"sqlite+aiosqlite:///{settings.data_dir}/{service}.db"
        return settings

    @property
    def development(self) -> bool:
        return self.environment == "development"

    def uses_jwks(self) -> bool:
        return bool(self.auth_jwks_url or self.auth_jwks_file)

    def secrets(self) -> dict[str, tuple[str | None, set[str]]]:
        """Each secret setting by its variable name: its value and the development values it must not keep."""
        return {}

    def checked_secrets(self) -> dict[str, tuple[str | None, set[str]]]:
        """The kit's secrets (every service has them) and the service's own `secrets()`."""
        return {"ACTOR_PSEUDONYM_KEY": (self.actor_pseudonym_key, {DEV_ACTOR_PSEUDONYM_KEY})} | self.secrets()

    def insecure_settings(self) -> list[str]:
        """What stops this configuration from running in production (nothing in development)."""
        if self.development:
            return []
        problems = [] if self.uses_jwks() else ["AUTH_JWKS_URL or AUTH_JWKS_FILE is required (no HS256 tokens)"]
        for name, (value, development_values) in self.checked_secrets().items():
            if not value:
                problems.append(f"{name} is empty")
            elif value in development_values:
                problems.append(f"{name} is a development default")
        return problems

    def ensure_production_ready(self) -> None:
        """Raise a one-line InsecureSettingsError naming each offending setting, unless ENVIRONMENT=development."""
        if problems := self.insecure_settings():
            raise InsecureSettingsError(
                f"ENVIRONMENT={self.environment}: {'; '.join(problems)} "
                "(set them from the Secrets listed in docs/operations.md, or ENVIRONMENT=development)"
            )

    def group_instance_id(self) -> str | None:
        """The static membership id consumers join with, or None for dynamic membership."""
        if self.kafka_group_instance_id is None:
            return f"{socket.gethostname()}-{self.service_name}"
        return self.kafka_group_instance_id or None

    def kafka(self) -> KafkaConnection:
        return KafkaConnection(
            bootstrap_servers=self.kafka_bootstrap_servers,
            security_protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            sasl_username=self.kafka_sasl_username,
            sasl_password=self.kafka_sasl_password,
            ssl_cafile=self.kafka_ssl_cafile,
        )
