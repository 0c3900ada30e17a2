"""The event envelope: CloudEvents 1.0 attributes plus stream, tenant, correlation and trace extensions.

On Kafka, events travel in CloudEvents **binary content mode** (the Kafka protocol binding): every attribute in
a `ce_<name>` header, `content-type: application/json`, the event data as the record value, and the stream id as
the record key, so one aggregate's events stay in order on one partition. The store keeps each event as its
structured-mode JSON (the whole CloudEvent in one document); `binary_record` turns those bytes into the Kafka
record. Readers accept both modes, so structured records published before the switch stay readable.
"""

from __future__ import annotations

import functools
import json
import operator
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

import orjson
from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic_core import from_json

from metrology.eventkit.events import DomainEvent, EventRegistry, JsonDict, schema_uri, split_type_name
from metrology.eventkit.ids import new_id

CONTENT_TYPE = "application/cloudevents+json"  # structured mode: how the store keeps events (and older records)
DATA_CONTENT_TYPE = "application/json"  # binary mode: the media type of the record value
CE_PREFIX = "ce_"
_FORMAT = JSONFormat()
_REQUIRED_TEXT = ("id", "type", "source", "time", "streamid", "tenant", "correlationid")
_OPTIONAL_TEXT = ("subject", "causationid", "traceparent", "actor")

Headers = list[tuple[str, bytes]]


def binary_record(structured: bytes) -> tuple[bytes, Headers]:
    """The binary-mode value and headers of a stored structured-mode event (what the relay publishes).

    The value is the stored `data` member cut out of the stored bytes, not parsed and written again: the store
    writes `data` as the last member, so the first `"data":` key of the document is that member (any other
    `"data"` comes later, inside it, and attribute strings escape their quotes). Anything else is re-encoded.

    The document is parsed by orjson where it can (a relay reads every event it publishes, and orjson reads these
    documents in two thirds of `loads_json`'s time): its one inexactness, integers beyond 64 bits read as floats,
    reaches neither the headers (text and a 64-bit version) nor a value cut out of the stored bytes; a `data` that
    is re-encoded is read again by `loads_json`.
    """
    attrs: dict[str, Any] = _orjson_or_exact(structured)
    data_is_last = next(reversed(attrs), None) == "data"
    data = attrs.pop("data")
    if not (data_is_last and isinstance(data, dict)):
        data = loads_json(structured)["data"]
    headers: Headers = [("content-type", attrs.pop("datacontenttype", DATA_CONTENT_TYPE).encode())]
    for name, value in attrs.items():
        if value is not None:
            headers.append((_HEADER_NAMES.get(name) or CE_PREFIX + name, str(value).encode()))
    if attrs.get("traceparent"):
        headers.append(("traceparent", attrs["traceparent"].encode()))  # W3C trace context, as OpenTelemetry reads it
    if data_is_last and isinstance(data, dict):
        return _data_member(structured), headers
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), headers


_ATTRIBUTES = "id source type specversion time subject dataschema streamid streamversion tenant correlationid"
_HEADER_NAMES = {name: CE_PREFIX + name for name in [*_ATTRIBUTES.split(), *_OPTIONAL_TEXT]}

_ATTRIBUTE_OF_HEADER = {header: name for name, header in _HEADER_NAMES.items()}

# The headers the relay writes (besides `content-type`, `ce_dataschema` and W3C `traceparent`): `ce_specversion`, then
# the envelope's text fields in their order, the required ones first.
_REQUIRED_FIELDS = (
    *("specversion", "id", "type", "source", "time"),
    *("streamid", "streamversion", "tenant", "correlationid"),
)
_FIELD_HEADERS = tuple(CE_PREFIX + name for name in (*_REQUIRED_FIELDS, *_OPTIONAL_TEXT))
_WRITTEN_HEADERS = frozenset([*_HEADER_NAMES.values(), "content-type", "traceparent"])


@functools.lru_cache(maxsize=64)
def _fields_picker(names: tuple[str, ...]) -> operator.itemgetter[Any] | None:
    """For records whose headers come with these names in this order (every record the relay writes for one kind
    of event has the same): what picks the envelope's text fields out of the decoded header values followed by a
    None, which stands for the optional ones absent. None when the names hold one twice, or one the relay does not
    write, or lack a required one: such records are read the general way."""
    if len(set(names)) != len(names) or not _WRITTEN_HEADERS.issuperset(names):
        return None
    absent = len(names)
    positions = [names.index(name) if name in names else absent for name in _FIELD_HEADERS]
    if absent in positions[: len(_REQUIRED_FIELDS)]:
        return None
    return operator.itemgetter(*positions)


_LAYOUTS: dict[int, tuple[tuple[str, ...], Any]] = {}  # the last layout read, by number of headers


def _picker_of(names: tuple[str, ...]) -> operator.itemgetter[Any] | None:
    """`_fields_picker` of these names, found by comparing them with the last layout of as many headers: names
    come from every record as new strings, and comparing them costs less than hashing them for the cache."""
    last = _LAYOUTS.get(len(names))
    if last is not None and last[0] == names:
        return last[1]
    picker = _fields_picker(names)
    if picker is not None:
        _LAYOUTS[len(names)] = (names, picker)
    return picker


_DECODE = bytes.decode
_NEW_TUPLE = tuple.__new__


def loads_json(raw: bytes | str) -> Any:
    """JSON as the standard library reads it, at a third of its cost: pydantic-core's parser where it can (integers
    of any size exact, where orjson would turn those beyond 64 bits into floats), the standard library for what it
    refuses (NaN, Infinity, lone surrogates), and the standard library's error when both refuse.
    Reading events is most of the relay's and the projectors' work per record."""
    try:
        return from_json(raw, allow_inf_nan=False)
    except ValueError:
        return json.loads(raw)


def _orjson_or_exact(raw: bytes) -> Any:
    """orjson's reading, or `loads_json`'s for what orjson refuses."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return loads_json(raw)


def dumps_json(document: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON by orjson; the standard library (ASCII with escapes) for what orjson refuses: integers
    beyond 64 bits, strings holding lone surrogates."""
    try:
        return orjson.dumps(document)
    except TypeError:
        return json.dumps(document, separators=(",", ":")).encode()


def _event_data(value: bytes) -> Any:
    """The record value of a binary-mode event, parsed."""
    try:
        return loads_json(value)
    except ValueError as error:
        raise ValueError(f"event data is not JSON: {error}") from None


def _data_object(value: bytes) -> JsonDict:
    data = _event_data(value)
    if not isinstance(data, dict):
        raise ValueError("event data must be a JSON object")
    return data


def _data_member(structured: bytes) -> bytes:
    start = structured.index(b'"data":') + 7
    end = structured.rindex(b"}")
    return structured[start:end].strip()


@functools.lru_cache(maxsize=256)
def _schema_of(type_name: str) -> str:
    base, version = split_type_name(type_name)
    return schema_uri(base, version)


@functools.lru_cache(maxsize=256)
def _time_text(time: datetime) -> str:
    """RFC 3339 as the CloudEvents SDK writes it (UTC as Z); the events of one append share their time."""
    text = time.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def is_binary_mode(headers: Sequence[tuple[str, bytes]]) -> bool:
    return any(name.lower() == "ce_specversion" for name, _ in headers)


@dataclass(frozen=True, slots=True)
class EventContext:
    """Who asked for the change and in which trace: carried onto every event a command writes."""

    tenant: str
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    causation_id: str | None = None
    traceparent: str | None = None
    actor: str | None = None

    def caused_by(self, envelope: Envelope) -> EventContext:
        """The context of a command issued in reaction to `envelope` (sagas)."""
        return EventContext(
            tenant=envelope.tenant,
            correlation_id=envelope.correlation_id,
            causation_id=envelope.id,
            traceparent=envelope.traceparent,
            actor=self.actor,
        )


class Envelope(NamedTuple):
    """One event with its CloudEvents attributes. A named tuple: immutable like a frozen dataclass, and built in a
    fifth of its time, which counts when a replay decodes a million of them (`dataclasses.replace` becomes
    `_replace`)."""

    id: str
    type: str
    source: str
    time: datetime
    stream_id: str
    stream_version: int
    tenant: str
    correlation_id: str
    data: JsonDict
    subject: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None
    actor: str | None = None

    @classmethod
    def wrap(
        cls,
        event: DomainEvent,
        *,
        source: str,
        stream_id: str,
        stream_version: int,
        context: EventContext,
        recorded_at: datetime | None = None,
    ) -> Envelope:
        return cls(
            id=new_id(),  # version 7, as every id the platform makes (ADR 18)
            type=event.type_name(),
            source=source,
            time=recorded_at or datetime.now(UTC),
            subject=stream_id,
            stream_id=stream_id,
            stream_version=stream_version,
            tenant=context.tenant,
            correlation_id=context.correlation_id,
            causation_id=context.causation_id,
            traceparent=context.traceparent,
            actor=context.actor,
            data=event.model_dump(mode="json"),
        )

    @property
    def dataschema(self) -> str:
        base, version = split_type_name(self.type)
        return schema_uri(base, version)

    def event(self, registry: EventRegistry) -> DomainEvent:
        return registry.load(self.type, self.data)

    def to_cloudevent(self) -> CloudEvent:
        attributes: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "specversion": "1.0",
            "time": self.time,
            "subject": self.subject,
            "datacontenttype": "application/json",
            "dataschema": self.dataschema,
            "streamid": self.stream_id,
            "streamversion": self.stream_version,
            "tenant": self.tenant,
            "correlationid": self.correlation_id,
        }
        optional = {"causationid": self.causation_id, "traceparent": self.traceparent, "actor": self.actor}
        attributes.update({k: v for k, v in optional.items() if v})
        return CloudEvent(attributes={k: v for k, v in attributes.items() if v is not None}, data=self.data)

    def to_json(self) -> bytes:
        """The structured-mode JSON the store keeps: the document the CloudEvents SDK writes (the kit's tests
        compare them), built directly rather than through the SDK's validated event object, and written compact
        in UTF-8 by `dumps_json` (a fifth of the SDK's cost)."""
        attributes: dict[str, Any] = {
            "id": self.id,
            "source": self.source,
            "type": self.type,
            "specversion": "1.0",
            "time": _time_text(self.time),
        }
        if self.subject is not None:
            attributes["subject"] = self.subject
        attributes["datacontenttype"] = "application/json"
        attributes["dataschema"] = _schema_of(self.type)
        attributes["streamid"] = self.stream_id
        attributes["streamversion"] = self.stream_version
        attributes["tenant"] = self.tenant
        attributes["correlationid"] = self.correlation_id
        if self.causation_id:
            attributes["causationid"] = self.causation_id
        if self.traceparent:
            attributes["traceparent"] = self.traceparent
        if self.actor:
            attributes["actor"] = self.actor
        attributes["data"] = self.data
        return dumps_json(attributes)

    def to_json_with_sdk(self) -> bytes:
        """The same bytes through the CloudEvents SDK (validates every attribute; slower)."""
        return ce_kafka.to_structured(self.to_cloudevent(), _FORMAT).value

    def to_kafka(self) -> tuple[bytes, bytes, Headers]:
        """The binary-mode Kafka record of this event: key (stream id), value (data) and `ce_*` headers."""
        value, headers = binary_record(self.to_json())
        return self.stream_id.encode(), value, headers

    @classmethod
    def from_kafka(cls, headers: Sequence[tuple[str, bytes]], value: bytes | None) -> Envelope:
        """Read a Kafka record in binary mode, or in structured mode (records published before binary mode)."""
        if not value:
            raise ValueError("empty record")
        envelope = cls._from_written_headers(headers, value)
        return envelope if envelope is not None else cls._from_any_headers(headers, value)

    @classmethod
    def _from_any_headers(cls, headers: Sequence[tuple[str, bytes]], value: bytes) -> Envelope:
        """The general reading: every `ce_` header (in any case, in any order, the last of a name winning), each
        attribute checked, and a reason for what is wrong."""
        attrs: dict[str, Any] = {}
        for name, raw in headers:
            attribute = _ATTRIBUTE_OF_HEADER.get(name)
            if attribute is None:
                lowered = name.lower()
                if not lowered.startswith(CE_PREFIX):
                    continue
                attribute = lowered[len(CE_PREFIX) :]
            if raw is None:
                raise ValueError(f"header '{name}' has no value")
            attrs[attribute] = raw.decode()
        if "specversion" not in attrs:  # no ce_specversion header: structured mode
            return cls.from_json(value)
        return cls._from_attributes(attrs, _event_data(value))

    @classmethod
    def _from_written_headers(cls, headers: Sequence[tuple[str, bytes]], value: bytes) -> Envelope | None:
        """A binary-mode record with the headers the relay writes and no other, read without the general reading's
        checks one attribute at a time: each field picked by its position in a layout of header names met before,
        and the text ones checked together (a fold reads every record it is given: see BENCHMARKS.md).
        None when the headers are laid out otherwise, or a value is null, not UTF-8 or empty, or the version is not
        digits: the general reading then reads the record, or says what is wrong with it."""
        try:
            names, values = zip(*headers, strict=True)  # pairs: other shapes fail here, as in the general reading
            picker = _picker_of(names)
            if picker is None:
                return None
            fields = picker((*map(_DECODE, values), None))  # every value decoded (the media type and schema unused)
        except (TypeError, ValueError):  # not pairs, null values, not bytes, not UTF-8 (a ValueError)
            return None
        spec, id_, type_, source, time, stream_id, version, tenant, correlation_id = fields[:9]
        if spec != "1.0" or not (
            id_ and type_ and source and time and stream_id and tenant and correlation_id and version.isdigit()
        ):
            return None
        subject, causation_id, traceparent, actor = fields[9:]
        # the tuple made directly: a named tuple's own `__new__` is a Python function, as costly again
        return _NEW_TUPLE(
            cls,
            (
                id_,
                type_,
                source,
                datetime.fromisoformat(time),
                stream_id,
                int(version),
                tenant,
                correlation_id,
                _data_object(value),
                subject,
                causation_id,
                traceparent,
                actor,
            ),
        )

    @classmethod
    def from_json(cls, value: bytes) -> Envelope:
        """Read a structured-mode CloudEvents 1.0 JSON event: the hot path of projectors and rebuilds.

        Parsed with `loads_json` and checked for what this platform relies on; it reads exactly what
        the CloudEvents SDK reads (`from_json_with_sdk`, compared in the kit's tests) at about a sixth of the cost.
        """
        try:
            attrs = loads_json(value)
        except ValueError as error:
            raise ValueError(f"not a JSON CloudEvent: {error}") from None
        if not isinstance(attrs, dict):
            raise ValueError("not a CloudEvents 1.0 event in structured mode")
        return cls._from_attributes(attrs, attrs.get("data"))

    @classmethod
    def _from_attributes(cls, attrs: dict[str, Any], data: Any) -> Envelope:
        """Check the attributes this platform relies on (kinds and presence) and build the envelope."""
        if attrs.get("specversion") != "1.0":
            raise ValueError("not a CloudEvents 1.0 event")
        if not isinstance(data, dict):
            raise ValueError("event data must be a JSON object")
        for name in _REQUIRED_TEXT:
            value = attrs.get(name)
            if type(value) is not str or not value:
                if name not in attrs:
                    raise KeyError(f"missing attribute '{name}'")
                if not isinstance(value, str) or not value:
                    raise ValueError(f"attribute '{name}' must be a non-empty string")
        for name in _OPTIONAL_TEXT:
            value = attrs.get(name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"attribute '{name}' must be a string")
        version = attrs.get("streamversion")
        if isinstance(version, bool) or not isinstance(version, int | str) or not str(version).isdigit():
            raise ValueError("attribute 'streamversion' must be a positive integer")
        return cls(
            id=attrs["id"],
            type=attrs["type"],
            source=attrs["source"],
            time=datetime.fromisoformat(attrs["time"]),
            subject=attrs.get("subject"),
            stream_id=attrs["streamid"],
            stream_version=int(version),
            tenant=attrs["tenant"],
            correlation_id=attrs["correlationid"],
            causation_id=attrs.get("causationid"),
            traceparent=attrs.get("traceparent"),
            actor=attrs.get("actor"),
            data=data,
        )

    @classmethod
    def from_json_with_sdk(cls, value: bytes) -> Envelope:
        """The same reading through the CloudEvents SDK (full attribute validation; slower)."""
        message = ce_kafka.KafkaMessage(headers={"content-type": CONTENT_TYPE.encode()}, key=None, value=value)
        return cls.from_cloudevent(ce_kafka.from_structured(message, _FORMAT))

    @classmethod
    def from_cloudevent(cls, event: Any) -> Envelope:
        attrs = event.get_attributes()
        data = event.get_data()
        if not isinstance(data, dict):
            raise ValueError("event data must be a JSON object")
        return cls(
            id=attrs["id"],
            type=attrs["type"],
            source=attrs["source"],
            time=attrs["time"],
            subject=attrs.get("subject"),
            stream_id=attrs["streamid"],
            stream_version=int(attrs["streamversion"]),
            tenant=attrs["tenant"],
            correlation_id=attrs["correlationid"],
            causation_id=attrs.get("causationid"),
            traceparent=attrs.get("traceparent"),
            actor=attrs.get("actor"),
            data=data,
        )
