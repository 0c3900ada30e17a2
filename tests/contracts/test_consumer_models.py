"""Every consumer's view of another service's event (`ConsumedEvent`) against the producer's published contract.

For each subscription of each service, each view in its projection's registry is checked against the committed
contract of the producer's type at the view's version (contracts/<producer>/<fact>.v<N>.json): every field the
view requires must exist in the producer's schema, be required there, and take a compatible type (the view's
JSON types a superset of the producer's, its allowed values a superset of the producer's). A field with a
default in the view may be optional or absent in the producer's schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from metrology.eventkit.events import ConsumedEvent, DomainEvent, event_json_schema
from metrology.servicekit.contracts import expand, read_contract, service_of
from metrology.servicekit.runtime import ServiceRuntime


def views_of(runtime: ServiceRuntime) -> list[type[DomainEvent]]:
    found: dict[str, type[DomainEvent]] = {}
    for subscription in runtime.subscriptions:
        for cls in subscription.projection.registry:
            if issubclass(cls, ConsumedEvent):
                found[f"{subscription.projection.name}:{cls.type_name()}"] = cls
    return list(found.values())


def mismatches(view: dict[str, Any], producer: dict[str, Any], path: str = "") -> list[str]:
    """Why a reader with schema `view` could not read every event valid under `producer` (both expanded)."""
    found = []
    producer_properties = producer.get("properties", {})
    producer_required = set(producer.get("required", []))
    view_required = set(view.get("required", []))
    for name, wanted in view.get("properties", {}).items():
        field = f"{path}{name}"
        if name not in producer_properties:
            if name in view_required:
                found.append(f"'{field}' is required by the consumer but not in the producer's schema")
            continue
        if name in view_required and name not in producer_required:
            found.append(f"'{field}' is required by the consumer but optional in the producer's schema")
        found += _value_mismatches(wanted, producer_properties[name], field)
    return found


def _value_mismatches(wanted: dict[str, Any], given: dict[str, Any], field: str) -> list[str]:
    if _types(wanted) != {"any"} and not _types(given) <= _types(wanted):
        return [
            f"'{field}' is {_show(_types(given))} in the producer's schema, the consumer reads {_show(_types(wanted))}"
        ]
    allowed, produced = _values(wanted), _values(given)
    if allowed is not None and (produced is None or not set(map(repr, produced)) <= set(map(repr, allowed))):
        return [f"'{field}' may be {produced or 'any value'} in the producer's schema, the consumer allows {allowed}"]
    found = []
    for kind in ("object", "array"):
        w, g = _member(wanted, kind), _member(given, kind)
        if w is None or g is None:
            continue
        found += (
            mismatches(w, g, f"{field}.")
            if kind == "object"
            else _value_mismatches(w.get("items", {}), g.get("items", {}), f"{field}[]")
        )
    return found


def _member(schema: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for member in schema.get("anyOf", [schema]):
        if member.get("type") == kind:
            return member  # type: ignore[no-any-return]
    return None


def _types(schema: dict[str, Any]) -> set[str]:
    if "anyOf" in schema:
        return set().union(*(_types(m) for m in schema["anyOf"]))
    declared = schema.get("type")
    if declared is None:
        return {"any"} if "const" not in schema and "enum" not in schema else {"string"}
    types = {declared} if isinstance(declared, str) else set(declared)
    return types | ({"number"} if "integer" in types else set())  # an integer is a number to a reader


def _values(schema: dict[str, Any]) -> list[Any] | None:
    if "anyOf" in schema:
        members = [_values(m) for m in schema["anyOf"] if m.get("type") != "null"]
        return None if any(m is None for m in members) else [v for m in members for v in m or []]
    if "const" in schema:
        return [schema["const"]]
    return schema.get("enum")


def _show(types: set[str]) -> str:
    return " | ".join(sorted(types))


def test_every_service_reading_events_is_checked(runtimes: dict[str, ServiceRuntime]) -> None:
    readers = {name for name, runtime in runtimes.items() if views_of(runtime)}
    assert readers == {"registry", "verification", "outreach", "reporting", "inspection"}


def test_every_consumer_view_fits_the_producer_contract(
    service: str, runtimes: dict[str, ServiceRuntime], contracts_dir: Path
) -> None:
    problems = []
    for view in views_of(runtimes[service]):
        published = read_contract(contracts_dir, view.event_type, view.event_version)
        if published is None:
            problems.append(f"{view.type_name()}: {service_of(view.event_type)} publishes no contract for it")
            continue
        problems += [
            f"{service} reads {view.type_name()}: {why}"
            for why in mismatches(expand(event_json_schema(view)), expand(published))
        ]
    assert problems == [], "\n".join(problems)


class ReadsAFieldTheProducerDropped(ConsumedEvent):
    event_type = "vn.metrology.registry.verifier-suspended"
    provider_id: str
    verifier_id: str
    suspended_by: str


class ReadsAnOptionalFieldAsRequired(ConsumedEvent):
    event_type = "vn.metrology.registry.verifier-suspended"
    verifier_id: str
    reason: str


class ReadsAListAsText(ConsumedEvent):
    event_type = "vn.metrology.registry.verifier-certified"
    event_version = 2
    fields: str


class ReadsAnEnumerationTooNarrowly(ConsumedEvent):
    event_type = "vn.metrology.registry.instrument-status-changed"
    instrument_id: str
    status: str
    reason: str | None = None


@pytest.mark.parametrize(
    ("view", "why"),
    [
        (ReadsAFieldTheProducerDropped, "'suspended_by' is required by the consumer but not in the producer's schema"),
        (ReadsAnOptionalFieldAsRequired, "'reason' is required by the consumer but optional in the producer's schema"),
        (ReadsAListAsText, "'fields' is array in the producer's schema, the consumer reads string"),
    ],
)
def test_a_view_that_does_not_fit_is_reported(view: type[DomainEvent], why: str, contracts_dir: Path) -> None:
    published = read_contract(contracts_dir, view.event_type, view.event_version)
    assert published is not None
    assert why in mismatches(expand(event_json_schema(view)), expand(published))


def test_a_view_with_defaults_for_what_the_producer_may_omit_fits(contracts_dir: Path) -> None:
    published = read_contract(contracts_dir, ReadsAnEnumerationTooNarrowly.event_type, 1)
    assert published is not None
    assert mismatches(expand(event_json_schema(ReadsAnEnumerationTooNarrowly)), expand(published)) == []


def test_a_view_allowing_fewer_values_than_the_producer_writes_is_reported(contracts_dir: Path) -> None:
    from typing import Literal

    class InUseOnly(ConsumedEvent):
        event_type = "vn.metrology.registry.instrument-status-changed"
        instrument_id: str
        status: Literal["in-use", "retired"]

    published = read_contract(contracts_dir, InUseOnly.event_type, 1)
    assert published is not None
    [why] = mismatches(expand(event_json_schema(InUseOnly)), expand(published))
    assert why.startswith("'status' may be ['in-use', 'out-of-use', 'retired'] in the producer's schema")
