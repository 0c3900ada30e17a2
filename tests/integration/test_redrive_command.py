"""`metrology-<service> redrive` as an operator runs it: dead letters go back to their topic, once."""

import os
import subprocess

import pytest
from kafka import KafkaConsumer, KafkaProducer

from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.testkit import infra
from metrology.testkit.services import console_script

pytestmark = pytest.mark.integration


def redrive(prefix: str, bootstrap: str) -> str:
    env = os.environ | {
        "KAFKA_TOPIC_PREFIX": prefix,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "ENVIRONMENT": "development",
    }
    done = subprocess.run(
        [console_script("verification"), "redrive"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_redrive_puts_each_dead_letter_back_on_its_source_topic_without_the_dead_letter_headers(kafka):
    prefix = infra.topic_prefix("t")
    source, dead_letters = f"{prefix}metrology.registry.v1", f"{prefix}metrology.verification.dlq.v1"
    ensure_topics(kafka, [TopicSpec(source), TopicSpec(dead_letters)])
    producer = KafkaProducer(bootstrap_servers=kafka.bootstrap_servers, acks="all")
    headers = [("ce_specversion", b"1.0"), ("ce_id", b"e-1"), ("dlq-reason", b"apply failed")]
    producer.send(dead_letters, b'{"x": 1}', key=b"s-1", headers=[*headers, ("dlq-source-topic", source.encode())])
    producer.flush()
    producer.close()

    first = redrive(prefix, kafka.bootstrap_servers)
    second = redrive(prefix, kafka.bootstrap_servers)

    assert first == f"verification: redrove 1 dead letters ({source}: 1)"
    assert second == "verification: redrove 0 dead letters (nothing to do)"
    consumer = KafkaConsumer(
        source, bootstrap_servers=kafka.bootstrap_servers, auto_offset_reset="earliest", consumer_timeout_ms=5000
    )
    records = list(consumer)
    consumer.close()
    assert [(r.key, r.value) for r in records] == [(b"s-1", b'{"x": 1}')]
    assert dict(records[0].headers) == {"ce_specversion": b"1.0", "ce_id": b"e-1"}
