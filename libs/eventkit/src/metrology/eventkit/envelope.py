"""The event envelope: CloudEvents 1.0 attributes plus stream, tenant, correlation and trace extensions.

Events travel in CloudEvents structured mode (the whole envelope is the JSON value of the Kafka record,
`content-type: application/cloudevents+json`); the record key is the stream id, so one aggregate's events
stay in order on one partition. The store keeps exactly these bytes, so the relay ships them unchanged.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cloudevents.core.bindings import kafka as ce_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from metrology.eventkit.events import DomainEvent, EventRegistry, JsonDict, schema_uri, split_type_name

CONTENT_TYPE = "application/cloudevents+json"
_FORMAT = JSONFormat()


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


@dataclass(frozen=True, slots=True)
class Envelope:
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
            id=str(uuid.uuid4()),
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
        return ce_kafka.to_structured(self.to_cloudevent(), _FORMAT).value

    @classmethod
    def from_json(cls, value: bytes) -> Envelope:
        """Read a structured-mode CloudEvents 1.0 JSON event: the hot path of projectors and rebuilds.

        Parsed with the standard json module and checked for what this platform relies on; it reads exactly what
        the CloudEvents SDK reads (`from_json_with_sdk`, compared in the kit's tests) at about a sixth of the cost.
        """
        try:
            attrs = json.loads(value)
        except ValueError as error:
            raise ValueError(f"not a JSON CloudEvent: {error}") from None
        if not isinstance(attrs, dict) or attrs.get("specversion") != "1.0":
            raise ValueError("not a CloudEvents 1.0 event in structured mode")
        data = attrs.get("data")
        if not isinstance(data, dict):
            raise ValueError("event data must be a JSON object")
        return cls(
            id=attrs["id"],
            type=attrs["type"],
            source=attrs["source"],
            time=datetime.fromisoformat(attrs["time"]),
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
