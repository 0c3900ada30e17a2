"""Every service's AsyncAPI 3.0 document: its shape, and the official parser (@asyncapi/parser, Node) accepts it.

The parser is installed by scripts/test.sh (`npm ci` in tools/asyncapi-validate).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from metrology.eventkit.events import event_json_schema
from metrology.reporting.entrypoints.cli import cli as reporting_cli
from metrology.servicekit.app import create_app
from metrology.servicekit.asyncapi import asyncapi_document
from metrology.servicekit.runtime import ServiceRuntime
from metrology.verification.domain.events import WorkRecorded

VALIDATOR = Path(__file__).resolve().parents[2] / "tools" / "asyncapi-validate"


def validate(*documents: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "Node.js is needed (scripts/test.sh installs it)"
    assert (VALIDATOR / "node_modules" / "@asyncapi" / "parser").is_dir(), (
        "run `npm ci --prefix tools/asyncapi-validate` (scripts/test.sh does)"
    )
    args = [node, str(VALIDATOR / "validate.mjs"), *map(str, documents)]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)


def write(tmp_path: Path, name: str, document: dict[str, Any]) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False))
    return path


def resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_the_parser_accepts_the_documents_of_every_service(runtimes: dict[str, ServiceRuntime], tmp_path: Path) -> None:
    paths = [write(tmp_path, name, asyncapi_document(rt)) for name, rt in runtimes.items()]
    result = validate(*paths)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"valid: {len(runtimes)} document(s)" in result.stdout


def test_the_parser_refuses_a_document_whose_payload_reference_does_not_resolve(
    runtimes: dict[str, ServiceRuntime], tmp_path: Path
) -> None:
    document = asyncapi_document(runtimes["verification"])
    document["components"]["schemas"].pop("verification.work-recorded.v1.Measurement")
    result = validate(write(tmp_path, "broken", document))
    assert result.returncode == 1
    assert "verification.work-recorded.v1.Measurement' does not exist" in result.stdout


def test_the_parser_refuses_an_operation_with_a_message_of_another_channel(
    runtimes: dict[str, ServiceRuntime], tmp_path: Path
) -> None:
    document = asyncapi_document(runtimes["verification"])
    document["operations"]["send-verification-events"]["messages"].append(
        {"$ref": "#/channels/registry/messages/provider-registered-v1"}
    )
    result = validate(write(tmp_path, "broken", document))
    assert result.returncode == 1
    assert "asyncapi3-operation-messages-from-referred-channel" in result.stdout


def test_the_service_topic_is_a_channel_with_every_event_type_it_writes(runtimes: dict[str, ServiceRuntime]) -> None:
    runtime = runtimes["registry"]
    document = asyncapi_document(runtime)
    channel = document["channels"]["registry"]
    assert channel["address"] == runtime.topic == "metrology.registry.v1"
    assert channel["bindings"]["kafka"]["partitions"] == 3
    assert channel["bindings"]["kafka"]["topicConfiguration"] == {"retention.ms": -1}
    titles = {message["title"] for message in channel["messages"].values()}
    assert titles == set(runtime.registry.json_schemas())
    assert document["operations"]["send-registry-events"]["action"] == "send"


def test_a_message_carries_the_payload_schema_the_cloudevents_headers_and_the_key(
    runtimes: dict[str, ServiceRuntime],
) -> None:
    document = asyncapi_document(runtimes["verification"])
    message = document["channels"]["verification"]["messages"]["work-recorded-v1"]
    payload = resolve(document, message["payload"]["$ref"])
    assert set(payload["properties"]) == set(event_json_schema(WorkRecorded)["properties"])
    assert payload["required"] == event_json_schema(WorkRecorded)["required"]
    measurement = payload["properties"]["measurements"]["items"]["$ref"]
    assert resolve(document, measurement)["type"] == "object"
    headers = message["headers"]
    assert headers["properties"]["ce_type"] == {"type": "string", "const": "vn.metrology.verification.work-recorded.v1"}
    assert (
        headers["properties"]["ce_dataschema"]["const"]
        == "urn:metrology:schema:vn.metrology.verification.work-recorded:1"
    )
    assert headers["properties"]["ce_source"]["const"] == "/metrology/verification"
    assert {"ce_specversion", "ce_id", "ce_time", "ce_streamid", "ce_streamversion", "ce_tenant"} <= set(
        headers["required"]
    )
    assert "ce_causationid" not in headers["required"]
    assert message["bindings"]["kafka"]["key"]["type"] == "string"
    assert message["contentType"] == "application/json"


def test_each_subscription_receives_from_the_topics_it_reads_through_its_views(
    runtimes: dict[str, ServiceRuntime],
) -> None:
    document = asyncapi_document(runtimes["outreach"])
    receive = document["operations"]["receive-outreach-access-saga-from-verification"]
    assert receive["action"] == "receive"
    assert receive["channel"] == {"$ref": "#/channels/verification"}
    assert document["channels"]["verification"]["address"] == "metrology.verification.v1"
    assert receive["bindings"]["kafka"]["groupId"]["enum"] == ["outreach.access-saga"]
    messages = [resolve(document, ref["$ref"]) for ref in receive["messages"]]
    assert sorted(message["title"] for message in messages) == [
        "vn.metrology.verification.enterprise-service-recorded.v1",
        "vn.metrology.verification.work-recorded.v1",
    ]
    assert all(message["summary"].startswith("How this service reads it") for message in messages)


async def test_the_document_is_served_at_asyncapi_json_without_a_token(runtimes: dict[str, ServiceRuntime]) -> None:
    app = create_app(runtimes["training"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get("/asyncapi.json")
        openapi = (await client.get("/openapi.json")).json()
    assert response.status_code == 200
    assert response.json() == json.loads(json.dumps(asyncapi_document(runtimes["training"])))
    assert "/asyncapi.json" in openapi["paths"]


def test_the_asyncapi_command_writes_the_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPORTING_DATABASE_URL", "sqlite+aiosqlite:///:memory:")
    out = tmp_path / "reporting.json"
    result = CliRunner().invoke(reporting_cli(), ["asyncapi", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["asyncapi"] == "3.0.0"
    assert validate(out).returncode == 0
