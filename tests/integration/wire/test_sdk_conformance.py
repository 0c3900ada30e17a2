"""Wire conformance: what the relay puts on a topic is read, attribute for attribute, by the official CloudEvents
SDKs of two languages (Python's `from_kafka_event` with its defaults, Java's `CloudEventDeserializer`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_kafka_event

from metrology.eventkit.envelope import Envelope

pytestmark = pytest.mark.integration

CORE_ATTRIBUTES = ("id", "source", "type", "specversion", "time", "subject", "datacontenttype", "dataschema")
OPTIONAL_EXTENSIONS = ("causationid", "actor", "traceparent")


def expected_attributes(envelope: Envelope) -> dict[str, Any]:
    return {
        "id": envelope.id,
        "source": envelope.source,
        "type": envelope.type,
        "specversion": "1.0",
        "time": envelope.time,
        "subject": envelope.stream_id,
        "datacontenttype": "application/json",
        "dataschema": envelope.dataschema,
    }


def expected_extensions(envelope: Envelope) -> dict[str, str]:
    extensions = {
        "streamid": envelope.stream_id,
        "streamversion": str(envelope.stream_version),
        "tenant": envelope.tenant,
        "correlationid": envelope.correlation_id,
        "causationid": envelope.causation_id,
        "actor": envelope.actor,
        "traceparent": envelope.traceparent,
    }
    return {name: value for name, value in extensions.items() if value is not None}


async def written_scenario(log) -> dict[str, Envelope]:
    await log.record_jobs("provider-a", 4, revoke=1)
    await log.record_jobs("provider-b", 3, fail=2)
    assert await log.publish() == log.scenario.events
    return await log.stored()


def assert_optional_extensions_were_exercised(stored: dict[str, Envelope]) -> None:
    """The scenario has events with and without each optional extension, so both cases are checked."""
    for name in OPTIONAL_EXTENSIONS:
        present = [name in expected_extensions(envelope) for envelope in stored.values()]
        assert any(present) and not all(present), name


async def test_every_record_is_binary_mode_with_the_stream_as_key_and_the_data_as_value(verification_log):
    stored = await written_scenario(verification_log)
    records = await verification_log.records(len(stored))

    assert len(records) == len(stored)
    for record in records:
        headers = dict(record.headers)
        envelope = stored[headers["ce_id"].decode()]
        assert headers["content-type"] == b"application/json"
        assert headers["ce_specversion"] == b"1.0"
        assert record.key == envelope.stream_id.encode()
        assert json.loads(record.value) == envelope.data
        assert headers.get("traceparent") == (envelope.traceparent.encode() if envelope.traceparent else None)


async def test_the_python_sdk_reads_every_attribute_and_extension_as_written(verification_log):
    stored = await written_scenario(verification_log)
    assert_optional_extensions_were_exercised(stored)
    records = await verification_log.records(len(stored))

    seen = set()
    for record in records:
        message = KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value)
        event = from_kafka_event(message)
        attributes = event.get_attributes()
        envelope = stored[event.get_id()]
        assert {name: attributes.get(name) for name in expected_attributes(envelope)} == expected_attributes(envelope)
        extensions = {k: v for k, v in attributes.items() if k not in CORE_ATTRIBUTES}
        assert extensions.pop("partitionkey") == envelope.stream_id  # how the SDK reads the record key
        assert extensions == expected_extensions(envelope)
        assert event.get_data() == envelope.data
        seen.add(envelope.id)
    assert seen == set(stored)


async def test_the_java_sdk_reads_every_attribute_and_extension_as_written(verification_log, java_consumer):
    stored = await written_scenario(verification_log)
    assert_optional_extensions_were_exercised(stored)

    printed = java_consumer("--check", "--bootstrap", verification_log.kafka.bootstrap_servers,
                            "--topics", verification_log.topic, "--idle-ms", "20000")  # fmt: skip
    lines = [json.loads(line) for line in printed.stdout.splitlines() if line.strip()]

    assert len(lines) == len(stored)
    for line in lines:
        envelope = stored[line["attributes"]["id"]]
        attributes = line["attributes"] | {"time": datetime.fromisoformat(line["attributes"]["time"])}
        assert attributes == expected_attributes(envelope)
        assert line["extensions"] == expected_extensions(envelope)
        assert line["key"] == envelope.stream_id
        assert line["data"] == envelope.data
    assert {line["attributes"]["id"] for line in lines} == set(stored)


async def test_both_sdks_read_records_published_before_binary_mode_the_same_way(verification_log, java_consumer):
    await verification_log.record_jobs("provider-a", 2, revoke=1)
    stored = await verification_log.stored()
    for envelope in stored.values():  # as the relay wrote them before binary mode: the whole event in the value
        structured = [("content-type", b"application/cloudevents+json")]
        await verification_log.send_raw(envelope.stream_id.encode(), envelope.to_json(), structured)

    records = await verification_log.records(len(stored))
    for record in records:
        event = from_kafka_event(KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value))
        envelope = stored[event.get_id()]
        attributes = event.get_attributes()
        assert {name: attributes.get(name) for name in CORE_ATTRIBUTES} == expected_attributes(envelope)
        assert event.get_data() == envelope.data
    printed = java_consumer("--check", "--bootstrap", verification_log.kafka.bootstrap_servers,
                            "--topics", verification_log.topic, "--idle-ms", "20000")  # fmt: skip
    lines = [json.loads(line) for line in printed.stdout.splitlines() if line.strip()]
    assert len(lines) == len(records) == len(stored)
    for line in lines:
        envelope = stored[line["attributes"]["id"]]
        attributes = line["attributes"] | {"time": datetime.fromisoformat(line["attributes"]["time"])}
        assert attributes == expected_attributes(envelope)
        assert {name: str(value) for name, value in line["extensions"].items()} == expected_extensions(envelope)
        assert line["data"] == envelope.data
