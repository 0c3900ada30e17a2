"""An integrator's consumer of the metrology platform's events: certificates issued and revoked per provider.

FastStream subscribes to the public topics with its own consumer group and commits each record's offset only after
it was applied (`message.ack()`). Each record is read with the CloudEvents SDK (`from_kafka_event`, binary or
structured mode), checked for the platform's attributes, and its data validated against the published JSON Schema
named by `dataschema`. The read model is a SQLite file; it remembers the last version applied per stream, so a
record delivered again (after a crash before the commit, or re-sent by the platform's at-least-once relay) is
recognised and not counted twice.

    python certificate_consumer.py --schemas ./schemas --topics metrology.verification.v1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRecord
from cloudevents.core.bindings.kafka import KafkaMessage as CloudEventsRecord
from cloudevents.core.bindings.kafka import from_kafka_event
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from jsonschema import Draft202012Validator, FormatChecker

WORK_RECORDED = "vn.metrology.verification.work-recorded.v1"
CERTIFICATE_ISSUED = "vn.metrology.verification.certificate-issued.v1"
CERTIFICATE_REVOKED = "vn.metrology.verification.certificate-revoked.v1"
REQUIRED = ("id", "source", "type", "time", "subject", "dataschema", "streamid", "streamversion", "tenant")

SCHEMA = """
CREATE TABLE IF NOT EXISTS stream_versions (stream_id TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (job_id TEXT PRIMARY KEY, provider_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS certificates (
    provider_id TEXT PRIMARY KEY, issued INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0
);
"""


def load_schemas(directory: Path) -> dict[str, Draft202012Validator]:
    """Validators by `$id`; a file holds one schema or an object of them (what `metrology-<service> schemas` prints)."""
    found: dict[str, Draft202012Validator] = {}
    for path in sorted(directory.rglob("*.json")):
        document = json.loads(path.read_text())
        for schema in [document] if "$id" in document else document.values():
            if isinstance(schema, dict) and "$id" in schema:
                found[schema["$id"]] = Draft202012Validator(schema, format_checker=FormatChecker())
    if not found:
        raise SystemExit(f"no JSON Schema with an $id under {directory}")
    return found


class ReadModel:
    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.executescript(SCHEMA)

    def apply(self, type_: str, stream_id: str, version: int, data: dict[str, Any]) -> bool:
        """Apply one event in one transaction; False when the stream already holds this version (a duplicate)."""
        with self.db:
            row = self.db.execute("SELECT version FROM stream_versions WHERE stream_id = ?", (stream_id,)).fetchone()
            if row and version <= row[0]:
                return False
            self.db.execute("INSERT OR REPLACE INTO stream_versions VALUES (?, ?)", (stream_id, version))
            if type_ == WORK_RECORDED:
                self.db.execute("INSERT OR REPLACE INTO jobs VALUES (?, ?)", (data["job_id"], data["provider_id"]))
            elif type_ in (CERTIFICATE_ISSUED, CERTIFICATE_REVOKED):
                job = self.db.execute("SELECT provider_id FROM jobs WHERE job_id = ?", (data["job_id"],)).fetchone()
                column = "issued" if type_ == CERTIFICATE_ISSUED else "revoked"
                self.db.execute(
                    f"INSERT INTO certificates (provider_id, {column}) VALUES (?, 1) "
                    f"ON CONFLICT (provider_id) DO UPDATE SET {column} = {column} + 1",
                    (job[0] if job else "unknown",),
                )
            return True

    def counts(self, column: str) -> dict[str, int]:
        rows = self.db.execute(f"SELECT provider_id, {column} FROM certificates WHERE {column} > 0 ORDER BY 1")
        return dict(rows.fetchall())


def problems(attributes: dict[str, Any], data: Any, schemas: dict[str, Draft202012Validator]) -> list[str]:
    found = [f"{name} is missing" for name in REQUIRED if not attributes.get(name)]
    if not isinstance(data, dict):
        found.append("data is not a JSON object")
    if attributes.get("datacontenttype") != "application/json":
        found.append(f"datacontenttype is {attributes.get('datacontenttype')}")
    validator = schemas.get(str(attributes.get("dataschema")))
    if validator is None:
        return [*found, f"no published schema {attributes.get('dataschema')}"]
    return found + [f"{error.json_path}: {error.message}" for error in validator.iter_errors(data)]


def build(args: argparse.Namespace, done: asyncio.Event, run: Counter[str]) -> tuple[KafkaBroker, ReadModel]:
    schemas = load_schemas(args.schemas)
    model = ReadModel(args.state)
    broker = KafkaBroker(args.bootstrap)

    @broker.subscriber(*args.topics, group_id=args.group, auto_offset_reset="earliest", ack_policy=AckPolicy.MANUAL)
    async def on_record(_data: Any, message: KafkaMessage) -> None:
        if done.is_set():  # past --max-events: leave the record, uncommitted, to the next run
            await message.nack()
            return
        record: ConsumerRecord[bytes, bytes] = message.raw_message  # type: ignore[assignment]  # one record, not a batch
        run["read"] += 1
        try:
            event = from_kafka_event(CloudEventsRecord(dict(record.headers), record.key, record.value))
            attributes, data = event.get_attributes(), event.get_data()
            found = problems(attributes, data, schemas)
        except (ValueError, KeyError) as error:  # not a CloudEvent at all
            attributes, data, found = {}, None, [f"not a CloudEvent: {error}"]
        if found:
            run["invalid"] += 1
            print(f"invalid event {attributes.get('id')} at {record.topic}-{record.partition}@{record.offset}: {found}")
        elif isinstance(data, dict) and model.apply(
            attributes["type"], attributes["streamid"], int(attributes["streamversion"]), data
        ):
            run["applied"] += 1
        else:
            run["duplicates"] += 1
        await message.ack()  # commits the offset, now that the read model holds the event
        if run["read"] >= args.max_events:
            done.set()

    return broker, model


async def main(args: argparse.Namespace) -> None:
    done, run = asyncio.Event(), Counter({"read": 0, "applied": 0, "duplicates": 0, "invalid": 0})
    broker, model = build(args, done, run)
    await broker.start()
    try:
        last, seen = time.monotonic(), 0
        while not done.is_set() and time.monotonic() - last < args.idle_seconds:
            await asyncio.sleep(0.1)
            if run["read"] != seen:
                last, seen = time.monotonic(), run["read"]
    finally:
        await broker.stop()
    summary = {
        "run": dict(run),
        "certificates_issued": model.counts("issued"),
        "certificates_revoked": model.counts("revoked"),
    }
    print(json.dumps(summary))


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092", help="Kafka bootstrap servers")
    parser.add_argument("--topics", default="metrology.verification.v1", type=lambda s: s.split(","))
    parser.add_argument("--group", default="example-certificate-consumer-python", help="this consumer's group")
    parser.add_argument("--schemas", type=Path, required=True, help="directory of published JSON Schemas")
    parser.add_argument("--state", type=Path, default=Path("certificates.db"), help="the read model (SQLite)")
    parser.add_argument("--max-events", type=int, default=sys.maxsize, help="stop after this many records")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="stop after this long without a record")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(arguments(sys.argv[1:])))
