"""The registry's HTTP app on a fresh PostgreSQL database, with its relay publishing to the real Kafka broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from kafka import KafkaConsumer

from metrology.eventkit.kafka import KafkaConnection
from metrology.registry.bootstrap import bootstrap
from metrology.registry.settings import RegistrySettings
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.testkit import infra
from metrology.testkit.records import first_distinct_events

SECRET = "registry-integration-secret-0123456789abcdef"


class Api:
    def __init__(self, client: TestClient, topic: str, kafka: KafkaConnection) -> None:
        self.client = client
        self.topic = topic
        self.kafka = kafka

    def token(self, *roles: str, **claims: str) -> dict[str, str]:
        token = issue_dev_token(SECRET, f"user-{'-'.join(roles)}", roles, "83", **claims)
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.token("province-admin")

    def post(self, path: str, body: object, headers: dict[str, str] | None = None) -> object:
        return self.client.post(path, json=body, headers=headers or self.admin)

    def created(self, path: str, body: object) -> str:
        response = self.client.post(path, json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def published(self, count: int, timeout: float = 30.0) -> list[dict[str, object]]:
        """The first `count` distinct events on the registry's topic, as CloudEvents JSON (waits for the relay)."""
        consumer = KafkaConsumer(
            self.topic,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=1000,
            **self.kafka.kafka_python_options(),
        )
        try:
            return first_distinct_events(consumer, count, timeout)
        finally:
            consumer.close()


@pytest.fixture
def api(postgres_url: str, kafka: KafkaConnection) -> Iterator[Api]:
    prefix = infra.topic_prefix("it")
    settings = RegistrySettings.from_env(
        "registry",
        database_url=postgres_url,
        kafka_bootstrap_servers=kafka.bootstrap_servers,
        kafka_topic_prefix=prefix,
        auth_jwt_secret=SECRET,
        run_consumers=False,
    )
    runtime = bootstrap(settings)
    with TestClient(create_app(runtime, with_workers=True)) as client:
        yield Api(client, runtime.topic, kafka)
