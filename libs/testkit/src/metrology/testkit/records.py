"""Reading what is on a topic the way an outside consumer sees it, in either CloudEvents content mode."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from metrology.eventkit.envelope import Envelope


def as_cloudevent(headers: Sequence[tuple[str, bytes]] | None, value: bytes | None) -> dict[str, Any]:
    """A Kafka record (binary or structured mode) as the structured-mode CloudEvent JSON object."""
    return json.loads(Envelope.from_kafka(list(headers or ()), value).to_json())


def record_bytes(headers: Sequence[tuple[str, bytes]] | None, value: bytes | None) -> bytes:
    """Everything a record carries (header values and value), to search for what must not be there."""
    return b"".join(v for _, v in headers or ()) + (value or b"")
