"""The AsyncAPI 3.0 document of a service, generated from its event registry and subscriptions.

Channels are Kafka topics: the service's own topic, with every event type it writes as a message (operation
`send`), and the topics it reads, with the views its projections read through (operations `receive`, one per
subscription and topic). A message is one event type and version in CloudEvents binary content mode: the
payload is the JSON Schema of the event data, the headers are the `ce_*` Kafka headers, the key is the stream id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from metrology.eventkit.events import ConsumedEvent, DomainEvent, event_json_schema, schema_uri
from metrology.servicekit.contracts import fact_of, published_types, service_of
from metrology.servicekit.runtime import ServiceRuntime

JsonDict = dict[str, Any]
ASYNCAPI_VERSION = "3.0.0"
KAFKA_BINDING = "0.5.0"
_SAFE = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True, slots=True)
class Reading:
    """A subscription of the service, as the document shows it: who reads which topics through which views."""

    name: str
    group_id: str
    topics: dict[str, str]  # producing service -> topic
    views: list[type[DomainEvent]]


def asyncapi_document(runtime: ServiceRuntime) -> JsonDict:
    """The service's AsyncAPI 3.0 document (a plain dict, ready for `json.dumps`)."""
    readings = [
        Reading(
            name=s.projection.name,
            group_id=s.group_id,
            topics={_producer_of(topic): topic for topic in s.topics},
            views=[cls for cls in s.projection.registry if issubclass(cls, ConsumedEvent)],
        )
        for s in runtime.subscriptions
    ]
    return build_document(runtime, published_types(runtime.registry, runtime.name), readings)


def build_document(runtime: ServiceRuntime, produced: list[type[DomainEvent]], readings: list[Reading]) -> JsonDict:
    settings = runtime.settings
    doc = _Document(settings.kafka_partitions, settings.kafka_replication_factor)
    if runtime.publishes and produced:
        messages = doc.channel(runtime.name, runtime.topic, produced, view=False)
        doc.operations[f"send-{runtime.name}-events"] = {
            "action": "send",
            "summary": f"{runtime.name} publishes its events (after commit, through the outbox relay)",
            "channel": {"$ref": f"#/channels/{runtime.name}"},
            "messages": [{"$ref": f"#/channels/{runtime.name}/messages/{key}"} for key in messages],
        }
    for reading in readings:
        for producer, topic in sorted(reading.topics.items()):
            views = [cls for cls in reading.views if service_of(cls.event_type) == producer]
            messages = doc.channel(producer, topic, views, view=True)
            doc.operations[_SAFE.sub("-", f"receive-{reading.name}-from-{producer}")] = {
                "action": "receive",
                "summary": f"{reading.name} reads the {producer} events it needs (others are skipped)",
                "channel": {"$ref": f"#/channels/{producer}"},
                "messages": [{"$ref": f"#/channels/{producer}/messages/{key}"} for key in messages],
                "bindings": {
                    "kafka": {
                        "groupId": {"type": "string", "enum": [reading.group_id]},
                        "bindingVersion": KAFKA_BINDING,
                    }
                },
            }
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": f"urn:metrology:{runtime.name}",
        "info": {
            "title": runtime.title or f"metrology {runtime.name}",
            "version": "0.1.0",
            "description": (runtime.description + "\n\n" if runtime.description else "") + WIRE_FORMAT,
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": settings.kafka_bootstrap_servers.split(",")[0].strip(),
                "protocol": "kafka",
                "description": "The Kafka cluster of the deployment",
            }
        },
        "channels": doc.channels,
        "operations": doc.operations,
        "components": {"schemas": doc.schemas},
    }


WIRE_FORMAT = (
    "Events travel in CloudEvents 1.0 binary content mode (Kafka protocol binding): the record key is the "
    "stream id, the value is the event data as JSON, the `ce_*` headers carry the envelope. Type names are "
    "versioned (`….v<N>`); a reader brings older versions up to date with upcasters."
)


class _Document:
    def __init__(self, partitions: int, replicas: int) -> None:
        self.partitions = partitions
        self.replicas = replicas
        self.channels: JsonDict = {}
        self.operations: JsonDict = {}
        self.schemas: JsonDict = {}

    def channel(self, service: str, topic: str, classes: list[type[DomainEvent]], *, view: bool) -> list[str]:
        """Add (or extend) the channel of `service`'s topic with one message per class; returns the message keys."""
        channel = self.channels.setdefault(
            service,
            {
                "address": topic,
                "title": f"{service} events",
                "description": f"Every event {service} publishes, keyed by stream id; retained forever.",
                "messages": {},
                "bindings": {
                    "kafka": {
                        "topic": topic,
                        "partitions": self.partitions,
                        "replicas": self.replicas,
                        "topicConfiguration": {"retention.ms": -1},
                        "bindingVersion": KAFKA_BINDING,
                    }
                },
            },
        )
        keys = []
        for cls in sorted(classes, key=lambda c: c.event_type):
            key = _SAFE.sub("-", f"{fact_of(cls.event_type)}-v{cls.event_version}")
            message = self.message(cls, view=view)
            while key in channel["messages"] and channel["messages"][key] != message:
                key += "-view"
            channel["messages"][key] = message
            keys.append(key)
        return keys

    def message(self, cls: type[DomainEvent], *, view: bool) -> JsonDict:
        schema = event_json_schema(cls)
        name = (
            "view." if view else ""
        ) + f"{service_of(cls.event_type)}.{fact_of(cls.event_type)}.v{cls.event_version}"
        payload = self.schema(name, schema)
        summary = schema.get("description", cls.type_name()).split(". ")[0]
        return {
            "name": cls.type_name(),
            "title": cls.type_name(),
            "summary": ("How this service reads it: " if view else "") + summary,
            "contentType": "application/json",
            "headers": cloudevents_headers(cls),
            "payload": payload,
            "correlationId": {"location": "$message.header#/ce_correlationid"},
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": "The stream (aggregate) id, e.g. `provider-<id>`"},
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        }

    def schema(self, name: str, schema: JsonDict) -> JsonDict:
        """Store `schema` and its `$defs` under components/schemas (refs rewritten); returns a reference to it."""
        defs = schema.get("$defs", {})
        prefix = f"{name}."
        body = {k: v for k, v in schema.items() if k not in ("$defs", "$id", "$schema")}
        for def_name, definition in defs.items():
            self.schemas[prefix + def_name] = _rewrite_refs(definition, prefix)
        key = name
        rewritten = _rewrite_refs(body, prefix)
        while key in self.schemas and self.schemas[key] != rewritten:
            key += "-view"
        self.schemas[key] = rewritten
        return {"$ref": f"#/components/schemas/{key}"}


def cloudevents_headers(cls: type[DomainEvent]) -> JsonDict:
    """The Kafka headers of one event type in CloudEvents binary content mode, as a JSON Schema."""
    producer = service_of(cls.event_type)
    text = {"type": "string"}
    properties: JsonDict = {
        "content-type": {"type": "string", "const": "application/json"},
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {**text, "description": "Event id (UUID), unique per event; readers drop repeats by it"},
        "ce_source": {"type": "string", "const": f"/metrology/{producer}"},
        "ce_type": {"type": "string", "const": cls.type_name()},
        "ce_time": {"type": "string", "format": "date-time", "description": "When the event was recorded"},
        "ce_subject": {**text, "description": "The aggregate the event is about"},
        "ce_dataschema": {"type": "string", "const": schema_uri(cls.event_type, cls.event_version)},
        "ce_streamid": {**text, "description": "The stream (aggregate) id, also the record key"},
        "ce_streamversion": {"type": "string", "pattern": "^[0-9]+$", "description": "Position in its stream"},
        "ce_tenant": {"type": "string", "pattern": "^[0-9]{2}$", "description": "Province code of the tenant"},
        "ce_correlationid": {**text, "description": "The request or process the event belongs to"},
        "ce_causationid": {**text, "description": "The event that caused this one, if any"},
        "ce_actor": {
            **text,
            "description": "Who did it: a pseudonymous id of the user (HMAC of the token subject) or a process name",
        },
        "ce_traceparent": {**text, "description": "W3C trace context of the write"},
        "traceparent": {**text, "description": "W3C trace context (plain header), when traced"},
    }
    optional = {"ce_causationid", "ce_actor", "ce_traceparent", "traceparent"}
    return {"type": "object", "properties": properties, "required": [k for k in properties if k not in optional]}


def _producer_of(topic: str) -> str:
    """`<prefix>metrology.<service>.v1` -> `<service>`."""
    return topic.rsplit(".", 2)[-2]


def _rewrite_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, list):
        return [_rewrite_refs(item, prefix) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: (
            value.replace("#/$defs/", f"#/components/schemas/{prefix}")
            if key == "$ref" and isinstance(value, str)
            else _rewrite_refs(value, prefix)
        )
        for key, value in node.items()
    }
