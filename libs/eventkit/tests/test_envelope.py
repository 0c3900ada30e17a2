"""The envelope's JSON form: CloudEvents structured mode, read the same way by the fast reader and the SDK."""

import json
import math
from datetime import date

import pytest
from cloudevents.core.bindings import kafka as ce_kafka
from hypothesis import given
from hypothesis import strategies as st

from metrology.eventkit import EventContext
from metrology.eventkit.envelope import Envelope, binary_record
from metrology.testkit.sample_events import ThingCounted, registry

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@given(
    thing=texts,
    amount=st.integers(-(2**40), 2**40),
    version=st.integers(1, 10_000),
    causation=st.none() | st.uuids().map(str),
    traceparent=st.none() | st.just("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    actor=st.none() | texts,
)
def test_the_fast_reader_reads_exactly_what_the_sdk_reads(thing, amount, version, causation, traceparent, actor):
    context = EventContext(tenant="83", causation_id=causation, traceparent=traceparent, actor=actor)
    event = ThingCounted(occurred_on=date(2025, 2, 28), thing=thing, amount=amount)
    envelope = Envelope.wrap(
        event, source="/metrology/test", stream_id=f"s-{thing}", stream_version=version, context=context
    )
    value = envelope.to_json()
    assert Envelope.from_json(value) == Envelope.from_json_with_sdk(value) == envelope
    assert Envelope.from_json(value).event(registry()) == event


@pytest.mark.parametrize(
    "value",
    [b"{not json", b"[]", b'{"specversion": "0.3", "data": {}}', b'{"specversion": "1.0", "data": "text"}'],
)
def test_what_is_not_a_structured_cloudevent_with_object_data_is_refused(value):
    with pytest.raises(ValueError):
        Envelope.from_json(value)


def test_an_event_missing_a_platform_attribute_is_refused():
    value = Envelope.wrap(
        ThingCounted(occurred_on=date(2025, 1, 1), thing="x", amount=1),
        source="/t",
        stream_id="s",
        stream_version=1,
        context=EventContext(tenant="83"),
    ).to_json()
    with pytest.raises(KeyError):
        Envelope.from_json(value.replace(b'"streamid"', b'"streamid_"'))


@given(
    thing=texts,
    version=st.integers(1, 10_000),
    causation=st.none() | st.uuids().map(str),
    traceparent=st.none() | st.just("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    actor=st.none() | texts,
)
def test_a_binary_mode_record_reads_the_same_with_the_sdk_default_reader_and_ours(
    thing, version, causation, traceparent, actor
):
    context = EventContext(tenant="83", causation_id=causation, traceparent=traceparent, actor=actor)
    event = ThingCounted(occurred_on=date(2025, 2, 28), thing=thing, amount=3)
    envelope = Envelope.wrap(
        event, source="/metrology/test", stream_id=f"s-{thing}", stream_version=version, context=context
    )
    key, value, headers = envelope.to_kafka()

    read = ce_kafka.from_kafka_event(ce_kafka.KafkaMessage(headers=dict(headers), key=key, value=value))

    attributes = read.get_attributes()
    assert attributes["id"] == envelope.id and attributes["type"] == envelope.type
    assert attributes["time"] == envelope.time and attributes["datacontenttype"] == "application/json"
    assert attributes["streamid"] == envelope.stream_id == attributes["partitionkey"]
    assert attributes["streamversion"] == str(version)
    assert attributes.get("causationid") == causation and attributes.get("actor") == actor
    assert read.get_data() == event.model_dump(mode="json")
    assert Envelope.from_kafka(headers, value) == envelope
    assert Envelope.from_kafka([("content-type", b"application/cloudevents+json")], envelope.to_json()) == envelope


@given(
    thing=texts,
    version=st.integers(1, 10_000),
    causation=st.none() | st.uuids().map(str),
    traceparent=st.none() | st.just("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
    actor=st.none() | texts,
)
def test_the_stored_json_is_the_document_the_sdk_writes_member_for_member(
    thing, version, causation, traceparent, actor
):
    context = EventContext(tenant="83", causation_id=causation, traceparent=traceparent, actor=actor)
    event = ThingCounted(occurred_on=date(2025, 2, 28), thing=thing, amount=3)
    envelope = Envelope.wrap(
        event, source="/metrology/test", stream_id=f"s-{thing}", stream_version=version, context=context
    )
    ours, sdks = json.loads(envelope.to_json()), json.loads(envelope.to_json_with_sdk())
    assert ours == sdks
    assert list(ours) == list(sdks)  # members in the same order, `data` last (the relay cuts it out by position)


@given(thing=texts)
def test_the_binary_value_is_the_stored_data_whatever_strings_it_holds(thing):
    data = {"data": thing, "nested": {"data": '"data": {}'}, "text": thing}
    envelope = Envelope.wrap(
        ThingCounted(occurred_on=date(2025, 2, 28), thing=thing, amount=3),
        source="/metrology/test",
        stream_id=f"s-{thing}",
        stream_version=1,
        context=EventContext(tenant="83", actor='"data": {"x": 1}'),
    )
    envelope = envelope._replace(data=data)
    value, headers = binary_record(envelope.to_json())
    assert json.loads(value) == data
    assert Envelope.from_kafka(headers, value) == envelope


def test_a_stored_event_written_by_another_tool_with_data_first_is_still_converted():
    stored = b'{"data": {"a": 1}, "specversion": "1.0", "id": "x", "streamversion": 2}'
    value, headers = binary_record(stored)
    assert json.loads(value) == {"a": 1}
    assert ("ce_id", b"x") in headers and ("ce_streamversion", b"2") in headers


@pytest.mark.parametrize(
    "stored",
    [
        b'{"data": {"a": 18446744073709551617}, "specversion": "1.0", "id": "x", "streamversion": 2}',
        b'{"specversion": "1.0", "id": "x", "streamversion": 2, "data": {"a": 18446744073709551617}}',
    ],
)
def test_an_integer_beyond_64_bits_in_stored_data_reaches_the_record_exactly(stored: bytes):
    value, _ = binary_record(stored)
    assert json.loads(value) == {"a": 18446744073709551617}


def test_what_the_fast_json_parsers_refuse_is_written_and_read_by_the_standard_library_instead():
    from metrology.eventkit.envelope import dumps_json, loads_json

    huge, lone_surrogate = {"count": 2**70}, {"name": "broken \udc80 text"}
    assert loads_json(dumps_json(huge)) == huge
    assert loads_json(dumps_json(lone_surrogate)) == lone_surrogate
    assert math.isnan(loads_json(b'{"value": NaN}')["value"])
    assert loads_json(b'{"value": -Infinity}')["value"] == -math.inf
    vietnamese = {"name": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng"}
    assert dumps_json(vietnamese) == json.dumps(vietnamese, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("number", [2**64 + 1, -(2**64) - 1, 10**30 + 7, 2**63, -(2**63) - 1])
def test_an_integer_beyond_64_bits_is_read_exactly_and_never_as_a_float(number: int):
    from metrology.eventkit.envelope import loads_json

    read = loads_json(f'{{"count": {number}}}'.encode())["count"]
    assert type(read) is int and read == number


def test_every_wrapped_event_gets_its_own_version_7_uuid_later_than_the_one_before():
    import uuid

    event = ThingCounted(occurred_on=date(2025, 2, 28), thing="scales", amount=1)
    ids = [
        Envelope.wrap(event, source="/t", stream_id="s", stream_version=n, context=EventContext(tenant="83")).id
        for n in range(1, 1001)
    ]
    assert len(set(ids)) == 1000
    assert all(uuid.UUID(value).version == 7 and str(uuid.UUID(value)) == value for value in ids)
    assert ids == sorted(ids)  # made in order, within one millisecond too
