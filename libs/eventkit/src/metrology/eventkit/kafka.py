"""Kafka connection settings shared by producers, consumers and the admin client."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class KafkaConnection:
    bootstrap_servers: str = "127.0.0.1:9092"
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None

    def aiokafka_options(self) -> dict[str, Any]:
        """Options for aiokafka producers and consumers (and so for FastStream's broker)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password,
            }
        if self.security_protocol in {"SSL", "SASL_SSL"}:
            options["ssl_context"] = ssl.create_default_context(cafile=self.ssl_cafile)
        return options

    def faststream_options(self) -> dict[str, Any]:
        """Options for FastStream's KafkaBroker, whose security is an object rather than loose options."""
        from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

        context = ssl.create_default_context(cafile=self.ssl_cafile) if "SSL" in self.security_protocol else None
        security: BaseSecurity | None = BaseSecurity(ssl_context=context) if context else None
        if self.sasl_mechanism:
            sasl = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
            user, password = self.sasl_username or "", self.sasl_password or ""
            security = sasl[self.sasl_mechanism](user, password, ssl_context=context)
        return {"bootstrap_servers": self.bootstrap_servers, "security": security}

    def kafka_python_options(self) -> dict[str, Any]:
        """Options for kafka-python clients (the admin client)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "security_protocol": self.security_protocol,
        }
        if self.sasl_mechanism:
            options |= {
                "sasl_mechanism": self.sasl_mechanism,
                "sasl_plain_username": self.sasl_username,
                "sasl_plain_password": self.sasl_password,
            }
        if self.ssl_cafile:
            options["ssl_cafile"] = self.ssl_cafile
        return options
