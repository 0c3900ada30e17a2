"""Topic names, provisioning with kafka-python's admin client, and what the broker says a topic is made of."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import for_code
from kafka.admin import ConfigResource, KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from metrology.eventkit.kafka import KafkaConnection

FOREVER = "-1"
UNKNOWN_TOPIC_OR_PARTITION = 3  # Kafka's error code for a topic the broker does not have


class TopicNotReadyError(Exception):
    """The broker could not say what a topic is made of: its answer for the topic, or for one of its partitions,
    carried an error (a leader not elected yet, a broker still catching up after a restart)."""


class NoSuchTopicError(LookupError):
    """None of the topics named is on the broker (a command given another prefix, a service that never started)."""


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


async def topic_partitions(connection: KafkaConnection, topics: Sequence[str]) -> dict[str, list[int]]:
    """The partitions of each topic, from the broker's answer to a metadata request for them; none for a topic
    the broker does not have. TopicNotReadyError when the answer carries any other error: a reader that took
    "not known" for "empty" would skip a topic's records (a rebuild), or publish its whole store again (a relay)."""
    admin = AIOKafkaAdminClient(**connection.aiokafka_options())
    try:
        await admin.start()
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    return {topic: partitions_described(topic, described) for topic in topics}


async def partition_ends(connection: KafkaConnection, topics: Sequence[str]) -> dict[TopicPartition, int]:
    """The end offset of every partition of `topics`, now (none for a topic the broker does not have;
    TopicNotReadyError as `topic_partitions`)."""
    described = await topic_partitions(connection, topics)
    partitions = [TopicPartition(topic, p) for topic in topics for p in described[topic]]
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(**connection.aiokafka_options(), enable_auto_commit=False, group_id=None)
    try:
        await consumer.start()
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


def partitions_described(topic: str, described: Sequence[dict[str, Any]]) -> list[int]:
    """The partitions of `topic` in a metadata answer; none when the broker has no such topic. TopicNotReadyError
    for any other error, of the topic or of one of its partitions, and for an answer that does not name it."""
    answer = next((each for each in described if each["topic"] == topic), None)
    if answer is None:
        raise TopicNotReadyError(f"the broker's metadata does not mention topic {topic}")
    if answer["error_code"] == UNKNOWN_TOPIC_OR_PARTITION:
        return []
    codes = [(f"topic {topic}", answer["error_code"])] + [
        (f"partition {topic}[{each['partition']}]", each["error_code"]) for each in answer["partitions"]
    ]
    for what, code in codes:
        if code:
            raise TopicNotReadyError(f"the broker's metadata for {what}: {for_code(code).__name__}")
    return sorted(each["partition"] for each in answer["partitions"])
