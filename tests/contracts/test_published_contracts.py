"""The evolution gate: every event type a service writes matches its contract under contracts/ (see its README).

The first test is the gate itself, over the five services; the others show what it refuses and what it lets
through, on example types published into a temporary folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from metrology.eventkit.events import DomainEvent, EventRegistry, event_json_schema
from metrology.registry.entrypoints.cli import app as registry_cli
from metrology.servicekit.contracts import (
    ContractBreachError,
    breaking_changes,
    contract_path,
    contract_problems,
    publish,
)
from metrology.servicekit.runtime import ServiceRuntime

EXAMPLE = "vn.metrology.example.card-issued"


def test_every_event_type_matches_its_published_contract(
    service: str, runtimes: dict[str, ServiceRuntime], contracts_dir: Path
) -> None:
    problems = contract_problems(contracts_dir, service, runtimes[service].registry)
    assert problems == [], "\n".join(problems)


class CardIssued(DomainEvent):
    event_type = EXAMPLE
    card_id: str
    holder: str


class CardIssuedWithOptionalNote(DomainEvent):
    event_type = EXAMPLE
    card_id: str
    holder: str
    note: str | None = None


class CardIssuedWithoutHolder(DomainEvent):
    event_type = EXAMPLE
    card_id: str


class CardIssuedV2(DomainEvent):
    event_type = EXAMPLE
    event_version = 2
    card_id: str
    holder_id: str


def registry_of(*classes: type[DomainEvent]) -> EventRegistry:
    return EventRegistry().register_all(classes)


def test_a_type_without_a_contract_is_refused_with_the_command_that_publishes_it(tmp_path: Path) -> None:
    problems = contract_problems(tmp_path, "example", registry_of(CardIssued))
    assert problems == [
        f"{EXAMPLE}.v1 is not published: run `metrology-example schemas --write contracts` to publish it"
    ]


def test_an_optional_field_added_since_publication_passes(tmp_path: Path) -> None:
    publish(tmp_path, [CardIssued])
    assert contract_problems(tmp_path, "example", registry_of(CardIssuedWithOptionalNote)) == []


def test_a_removed_field_is_refused_naming_the_field_and_the_rule(tmp_path: Path) -> None:
    publish(tmp_path, [CardIssued])
    [problem] = contract_problems(tmp_path, "example", registry_of(CardIssuedWithoutHolder))
    assert "field 'holder' was removed (rule property-removed)" in problem
    assert "ships as v2 with an upcaster from v1" in problem


def test_a_new_version_without_an_upcaster_from_the_old_one_is_refused(tmp_path: Path) -> None:
    publish(tmp_path, [CardIssued])
    publish(tmp_path, [CardIssuedV2])
    assert contract_problems(tmp_path, "example", registry_of(CardIssuedV2)) == [
        f"{EXAMPLE}.v1 is published but cannot be read any more: no upcaster path from v1 to v2"
    ]


def test_a_new_version_with_an_upcaster_from_the_old_one_passes(tmp_path: Path) -> None:
    publish(tmp_path, [CardIssued])
    publish(tmp_path, [CardIssuedV2])
    registry = registry_of(CardIssuedV2)
    registry.upcaster(EXAMPLE, 1)(lambda data: {**data, "holder_id": data.pop("holder")})
    assert contract_problems(tmp_path, "example", registry) == []


def test_a_new_version_must_be_published_beside_the_old_one(tmp_path: Path) -> None:
    publish(tmp_path, [CardIssuedV2])
    registry = registry_of(CardIssuedV2)
    registry.upcaster(EXAMPLE, 1)(lambda data: data)
    assert contract_problems(tmp_path, "example", registry) == [
        f"{EXAMPLE}.v2: the contract of v1 is gone (published versions stay forever)"
    ]


def test_a_published_type_that_is_no_longer_written_is_refused(tmp_path: Path) -> None:
    publish(tmp_path, [CardIssued])
    assert contract_problems(tmp_path, "example", EventRegistry()) == [
        f"{EXAMPLE} is published but no longer written (a published type cannot disappear)"
    ]


def test_publishing_refuses_a_breaking_change_and_writes_nothing(tmp_path: Path) -> None:
    publish(tmp_path, [CardIssued])
    before = contract_path(tmp_path, EXAMPLE, 1).read_text()
    with pytest.raises(ContractBreachError, match="holder"):
        publish(tmp_path, [CardIssuedWithoutHolder])
    assert contract_path(tmp_path, EXAMPLE, 1).read_text() == before


def test_publishing_an_optional_field_updates_the_contract(tmp_path: Path) -> None:
    publish(tmp_path, [CardIssued])
    assert publish(tmp_path, [CardIssuedWithOptionalNote]) == [str(contract_path(tmp_path, EXAMPLE, 1))]
    assert json.loads(contract_path(tmp_path, EXAMPLE, 1).read_text()) == event_json_schema(CardIssuedWithOptionalNote)
    assert publish(tmp_path, [CardIssuedWithOptionalNote]) == []


def test_the_schemas_command_publishes_what_the_gate_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, contracts_dir: Path
) -> None:
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "sqlite+aiosqlite:///:memory:")
    result = CliRunner().invoke(registry_cli(), ["schemas", "--write", str(tmp_path)])
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    assert written, result.output
    for path in written:
        committed = json.loads((contracts_dir / path).read_text())
        assert breaking_changes(committed, json.loads((tmp_path / path).read_text())) == [], path


def test_the_schemas_command_refuses_a_breaking_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGISTRY_DATABASE_URL", "sqlite+aiosqlite:///:memory:")
    CliRunner().invoke(registry_cli(), ["schemas", "--write", str(tmp_path)])
    published = next((tmp_path / "registry").glob("enterprise-closed.v*.json"))
    schema = json.loads(published.read_text())
    schema["properties"]["closed_by"] = {"type": "string"}
    published.write_text(json.dumps(schema))
    result = CliRunner().invoke(registry_cli(), ["schemas", "--write", str(tmp_path)])
    assert result.exit_code == 1
    assert "field 'closed_by' was removed (rule property-removed)" in result.output
