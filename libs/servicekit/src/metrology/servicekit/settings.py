"""Typed settings read from the environment: `<SERVICE>_KEY` first, then `KEY`, then the default."""

from __future__ import annotations

import os
import socket
from typing import Any, Self

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from metrology.eventkit.kafka import KafkaConnection


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", env_prefix="")

    service_name: str = "service"
    database_url: str = ""
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
    auth_jwt_secret: str = "dev-only-secret-change-me-0123456789abcdef"
    auth_jwt_public_key: str | None = None
    auth_issuer: str = "metrology-dev"
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
