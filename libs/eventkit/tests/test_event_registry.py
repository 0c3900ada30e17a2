"""The registry turns event data into the current model of its type: validated as `model_validate` validates it,
older versions brought up by their upcasters, and what it cannot read refused every time with the reason."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrology.eventkit.events import EventParseError, EventRegistry, NewerVersionError, UnknownEventTypeError
from metrology.testkit.sample_events import ThingCounted, ThingCountedWithUnit, registry, upgraded_registry

TYPE = "vn.metrology.test.thing-counted"
values = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.dates().map(str))


@given(
    data=st.fixed_dictionaries({"occurred_on": values, "thing": values, "amount": values}, optional={"extra": values})
)
def test_data_is_read_exactly_as_the_model_validates_it(data):
    try:
        expected: object = ThingCounted.model_validate(data)
    except ValueError:
        expected = EventParseError

    try:
        read: object = registry().load(f"{TYPE}.v2", data)
    except EventParseError:
        read = EventParseError

    assert read == expected


def test_an_older_version_is_brought_up_by_its_upcasters_each_time_it_is_read():
    reader = upgraded_registry()
    old = {"occurred_on": "2025-03-01", "thing": "scales"}

    first, again = reader.load(f"{TYPE}.v1", old), reader.load(f"{TYPE}.v1", dict(old))

    expected = ThingCountedWithUnit(occurred_on=date(2025, 3, 1), thing="scales", amount=1, unit="piece")
    assert first == again == expected
    assert old == {"occurred_on": "2025-03-01", "thing": "scales"}  # the caller's data is left as it was


def test_what_cannot_be_read_is_refused_every_time_with_its_reason():
    reader = registry()
    for _ in range(2):
        with pytest.raises(NewerVersionError, match="version 3 is newer than this reader knows"):
            reader.load(f"{TYPE}.v3", {})
        with pytest.raises(EventParseError, match=r"no upcaster for .* from version 0"):
            reader.load(f"{TYPE}.v0", {})
        with pytest.raises(UnknownEventTypeError):
            reader.load("vn.metrology.test.unknown.v1", {})


def test_an_upcaster_declared_after_a_version_was_refused_is_used_from_then_on():
    reader = EventRegistry().register_all([ThingCounted])
    old = {"occurred_on": "2025-03-01", "thing": "meters"}
    with pytest.raises(EventParseError, match="no upcaster"):
        reader.load(f"{TYPE}.v1", old)

    reader.upcaster(TYPE, 1)(lambda data: data | {"amount": 4})

    assert reader.load(f"{TYPE}.v1", old).amount == 4


def test_an_upcaster_declared_again_replaces_the_one_used_before():
    reader = EventRegistry().register_all([ThingCounted])
    reader.upcaster(TYPE, 1)(lambda data: data | {"amount": 4})
    old = {"occurred_on": "2025-03-01", "thing": "meters"}
    assert reader.load(f"{TYPE}.v1", old).amount == 4

    reader.upcaster(TYPE, 1)(lambda data: data | {"amount": 5})

    assert reader.load(f"{TYPE}.v1", old).amount == 5


def test_a_loader_reads_as_load_reads_and_there_is_none_for_a_type_the_registry_does_not_know():
    reader = upgraded_registry()
    old = {"occurred_on": "2025-03-01", "thing": "scales"}

    assert reader.loader("vn.metrology.test.unknown.v1") is None
    assert reader.loader(f"{TYPE}.v1")(dict(old)) == reader.load(f"{TYPE}.v1", dict(old))
    assert reader.loader(f"{TYPE}.v3")({**old, "amount": 2, "unit": "kg"}) == ThingCountedWithUnit(
        occurred_on=date(2025, 3, 1), thing="scales", amount=2, unit="kg"
    )
    with pytest.raises(NewerVersionError, match="version 4 is newer than this reader knows"):
        reader.loader(f"{TYPE}.v4")
