"""The rules that decide whether a published schema may change within its version (unit, no I/O)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel

from metrology.eventkit.events import DomainEvent, event_json_schema
from metrology.servicekit.contracts import Breach, breaking_changes


class Reading(BaseModel):
    value: float
    unit: str


class Published(DomainEvent):
    """A verifier was certified."""

    event_type = "vn.metrology.example.verifier-certified"
    verifier_id: str
    card_number: str
    fields: list[str]
    level: Literal["reference", "working"]
    reading: Reading
    notes: str | None = None


def rules(changed: type[DomainEvent]) -> list[tuple[str, str]]:
    return [(b.field, b.rule) for b in breaking_changes(event_json_schema(Published), event_json_schema(changed))]


def test_an_unchanged_schema_passes() -> None:
    assert breaking_changes(event_json_schema(Published), event_json_schema(Published)) == []


def test_adding_an_optional_field_passes() -> None:
    class WithOptional(Published):
        card_valid_until: date | None = None

    assert rules(WithOptional) == []


def test_a_changed_description_passes() -> None:
    class Described(Published):
        """Said differently."""

    assert rules(Described) == []


def test_removing_a_field_is_refused() -> None:
    class Removed(DomainEvent):
        event_type = Published.event_type
        verifier_id: str
        fields: list[str]
        level: Literal["reference", "working"]
        reading: Reading
        notes: str | None = None

    assert rules(Removed) == [("card_number", "property-removed")]


def test_renaming_a_field_is_refused_and_named_as_a_rename() -> None:
    class Renamed(DomainEvent):
        event_type = Published.event_type
        verifier_id: str
        card_no: str
        fields: list[str]
        level: Literal["reference", "working"]
        reading: Reading
        notes: str | None = None

    assert ("card_number", "property-renamed") in rules(Renamed)
    assert ("card_no", "required-property-added") in rules(Renamed)


def test_retyping_a_field_is_refused() -> None:
    class Retyped(Published):
        card_number: int  # type: ignore[assignment]

    assert rules(Retyped) == [("card_number", "type-changed")]


def test_making_a_field_nullable_is_refused() -> None:
    class Nullable(Published):
        card_number: str | None  # type: ignore[assignment]

    assert rules(Nullable) == [("card_number", "type-changed")]


def test_retyping_the_items_of_a_list_is_refused() -> None:
    class Retyped(Published):
        fields: list[int]  # type: ignore[assignment]

    assert rules(Retyped) == [("fields[]", "type-changed")]


def test_requiring_an_optional_field_is_refused() -> None:
    class Required(Published):
        notes: str | None  # type: ignore[assignment]

    assert ("notes", "newly-required") in rules(Required)


def test_adding_a_required_field_is_refused() -> None:
    class WithRequired(Published):
        card_valid_until: date

    assert rules(WithRequired) == [("card_valid_until", "required-property-added")]


def test_dropping_a_requirement_is_refused() -> None:
    class Optional(Published):
        card_number: str = ""

    assert rules(Optional) == [("card_number", "no-longer-required")]


def test_narrowing_an_enumeration_is_refused() -> None:
    class Narrowed(Published):
        level: Literal["reference"]  # type: ignore[assignment]

    assert rules(Narrowed) == [("level", "enum-narrowed")]


def test_widening_an_enumeration_is_refused() -> None:
    class Widened(Published):
        level: Literal["reference", "working", "national"]  # type: ignore[assignment]

    assert rules(Widened) == [("level", "enum-widened")]


def test_changing_a_date_into_a_timestamp_is_refused() -> None:
    class Timestamped(Published):
        occurred_on: str  # type: ignore[assignment]

    assert rules(Timestamped) == [("occurred_on", "format-changed")]


def test_a_change_inside_a_nested_object_names_the_nested_field() -> None:
    class OtherReading(BaseModel):
        value: str
        unit: str

    class Nested(Published):
        reading: OtherReading  # type: ignore[assignment]

    assert rules(Nested) == [("reading.value", "type-changed")]


def test_an_optional_field_added_to_a_nested_object_passes() -> None:
    class RicherReading(BaseModel):
        value: float
        unit: str
        uncertainty: float | None = None

    class Nested(Published):
        reading: RicherReading  # type: ignore[assignment]

    assert rules(Nested) == []


def test_allowing_unknown_properties_is_refused() -> None:
    schema = event_json_schema(Published)
    lax = {**schema, "additionalProperties": True}
    assert [(b.field, b.rule) for b in breaking_changes(schema, lax)] == [("", "additional-properties-changed")]


def test_changing_the_default_of_an_optional_field_is_refused() -> None:
    class Defaulted(Published):
        notes: str | None = "none"

    assert rules(Defaulted) == [("notes", "default-changed")]


def test_a_breach_reads_as_a_sentence() -> None:
    assert str(Breach("card_number", "property-removed", "was removed")) == (
        "field 'card_number' was removed (rule property-removed)"
    )
