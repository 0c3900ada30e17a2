from datetime import date

import pytest

from metrology.refdata.group2 import UnknownInstrumentTypeError, add_months, group2


def test_the_shipped_list_holds_every_type_of_the_shared_data_file():
    assert len(group2().codes(date(2025, 1, 1))) == 84


def test_a_type_added_in_2024_is_unknown_before_it_applies():
    with pytest.raises(UnknownInstrumentTypeError):
        group2().type_on("2.69a", date(2024, 10, 14))
    assert group2().type_on("2.69a", date(2024, 10, 15)).cycle_months == 60


def test_next_due_adds_the_interval_in_force_on_the_verification_date():
    assert group2().next_due("2.43b", date(2025, 3, 31)) == date(2031, 3, 31)
    assert group2().next_due("2.34b", date(2025, 8, 31)) == date(2026, 2, 28)


def test_types_with_initial_verification_only_have_no_next_due_date():
    assert group2().next_due("2.1d", date(2025, 1, 1)) is None


def test_adding_months_clamps_to_the_end_of_a_shorter_month():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
