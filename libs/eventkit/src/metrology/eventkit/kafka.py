"""Kafka connection settings, and the one place that turns them into each client library's options.

Four clients meet the broker: aiokafka (consumers, probes, the replay tools), FastStream (whose Kafka broker is built
on aiokafka but takes security as an object), kafka-python (the admin client) and librdkafka through confluent-kafka
(the outbox relay's producer). Each spells the same settings its own way; `client_options` is the only place that
knows how.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any, Literal

Client = Literal["aiokafka", "faststream", "kafka-python", "librdkafka"]


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None

    def client_options(self, client: Client) -> dict[str, Any]:
        """Connection and security options for `client`, from these settings."""
        uses_tls = self.security_protocol in {"SSL", "SASL_SSL"}
        if client == "faststream":
            return {"bootstrap_servers": self.bootstrap_servers, "security": self._faststream_security(uses_tls)}
        if client == "librdkafka":
            return self._librdkafka_options(uses_tls)
        servers: str | list[str] = self.bootstrap_servers
        if client == "kafka-python":
            servers = self.bootstrap_servers.split(",")
        options: dict[str, Any] = {"bootstrap_servers": servers, "security_protocol": self.security_protocol}
        if self.sasl_mechanism:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password,
            }
        if uses_tls and client == "aiokafka":
            options["ssl_context"] = ssl.create_default_context(cafile=self.ssl_cafile)
        if uses_tls and client == "kafka-python" and self.ssl_cafile:
            options["ssl_cafile"] = self.ssl_cafile
        return options

    def aiokafka_options(self) -> dict[str, Any]:
        return self.client_options("aiokafka")

    def faststream_options(self) -> dict[str, Any]:
        return self.client_options("faststream")

    def kafka_python_options(self) -> dict[str, Any]:
        return self.client_options("kafka-python")

    def librdkafka_options(self) -> dict[str, Any]:
        return self.client_options("librdkafka")

    def _librdkafka_options(self, uses_tls: bool) -> dict[str, Any]:
        options: dict[str, Any] = {
            "bootstrap.servers": self.bootstrap_servers,
            "security.protocol": self.security_protocol.lower(),
        }
        if self.sasl_mechanism:
            options |= {
                "sasl.mechanism": self.sasl_mechanism,
                "sasl.username": self.sasl_username,
                "sasl.password": self.sasl_password,
            }
        if uses_tls and self.ssl_cafile:
            options["ssl.ca.location"] = self.ssl_cafile
        return options

    def _faststream_security(self, uses_tls: bool) -> Any:
        from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

        context = ssl.create_default_context(cafile=self.ssl_cafile) if uses_tls else None
        if self.sasl_mechanism:
            sasl = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
            return sasl[self.sasl_mechanism](self.sasl_username or "", self.sasl_password or "", ssl_context=context)
        return BaseSecurity(ssl_context=context) if context else None
