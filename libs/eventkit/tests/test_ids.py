"""The identifiers the platform makes are version-7 UUIDs, each later than the one before."""

from __future__ import annotations

import uuid

from metrology.eventkit.ids import distinctive_part, new_id


def test_a_new_id_is_a_version_7_uuid_in_canonical_text():
    value = new_id()

    assert uuid.UUID(value).version == 7
    assert str(uuid.UUID(value)) == value


def test_ids_made_one_after_another_are_unique_and_sort_in_the_order_made():
    ids = [new_id() for _ in range(5000)]

    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)  # within one millisecond too: the order is kept by the counter after the time


def test_the_distinctive_part_of_ids_made_in_the_same_millisecond_differs():
    ids = [new_id() for _ in range(5000)]

    assert len({distinctive_part(value, 10) for value in ids}) == len(ids)
    assert len({value[:8] for value in ids}) < 10  # the start of a version-7 id is the time it was made


def test_the_distinctive_part_of_a_version_4_id_is_its_start_as_before():
    value = "1a2b3c4d-5e6f-4a1b-8c2d-0123456789ab"

    assert distinctive_part(value, 10) == "1a2b3c4d5e"
    assert distinctive_part("job-17", 4) == "job1"
