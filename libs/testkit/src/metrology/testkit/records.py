"""Reading what is on a topic the way an outside consumer sees it, in either CloudEvents content mode."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from metrology.eventkit.envelope import Envelope


def as_cloudevent(headers: Sequence[tuple[str, bytes]] | None, value: bytes | None) -> dict[str, Any]:
    """A Kafka record (binary or structured mode) as the structured-mode CloudEvent JSON object."""
    return json.loads(Envelope.from_kafka(list(headers or ()), value).to_json())


def record_bytes(headers: Sequence[tuple[str, bytes]] | None, value: bytes | None) -> bytes:
    """Everything a record carries (header values and value), to search for what must not be there."""
    return b"".join(v for _, v in headers or ()) + (value or b"")


def first_distinct_events(consumer: Iterable[Any], count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    """The first `count` distinct events (by CloudEvents id) a kafka-python consumer reads, in the order first read,
    as structured-mode JSON with the record's `_key` and `_headers`; fewer when `timeout` seconds pass first.

    Delivery is at least once (a relay sends a batch again when it could not record how far it got), so a record
    may be on the topic twice; it is kept once, as every consumer of the platform keeps it.
    The consumer should stop iterating when idle (`consumer_timeout_ms`), so that the timeout is checked."""
    events: dict[str, dict[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while len(events) < count and time.monotonic() < deadline:
        for message in consumer:
            event = as_cloudevent(message.headers, message.value)
            key = message.key.decode() if message.key is not None else None
            events.setdefault(event["id"], event | {"_key": key, "_headers": dict(message.headers or ())})
            if len(events) >= count:
                break
    return list(events.values())
