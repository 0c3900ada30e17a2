"""Topic names and provisioning with kafka-python's admin client."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kafka.admin import ConfigResource, KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from metrology.eventkit.kafka import KafkaConnection

FOREVER = "-1"


def event_topic(service: str) -> str:
    """The one topic a service publishes its events to."""
    return f"metrology.{service}.v1"


def dead_letter_topic(consumer_service: str) -> str:
    return f"metrology.{consumer_service}.dlq.v1"


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    partitions: int = 3
    replication_factor: int = 1
    config: dict[str, str] = field(default_factory=lambda: {"retention.ms": FOREVER})


def ensure_topics(connection: KafkaConnection, specs: Iterable[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = KafkaAdminClient(client_id="metrology-provisioner", **connection.kafka_python_options())
    try:
        existing = set(admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        created = []
        for spec in missing:
            topic = NewTopic(spec.name, spec.partitions, spec.replication_factor, topic_configs=dict(spec.config))
            try:
                admin.create_topics([topic])
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()


def describe_retention(connection: KafkaConnection, topic: str) -> str | None:
    """The topic's `retention.ms`, as the broker reports it."""
    admin = KafkaAdminClient(client_id="metrology-provisioner", **connection.kafka_python_options())
    try:
        configs = admin.describe_configs([ConfigResource("TOPIC", topic)], config_filter="all")
        entry = configs.get("topic", {}).get(topic, {}).get("retention.ms")
        return None if entry is None else str(entry["value"])
    finally:
        admin.close()
