from datetime import date

import pytest

from metrology.refdata.admin_units import ADMINISTRATIVE_UNITS_VERSION, AddressError, administrative_units

BEFORE, AFTER = date(2025, 6, 30), date(2025, 7, 1)


def test_there_are_63_provinces_before_the_merger_and_34_after():
    units = administrative_units()
    assert (len(units.province_codes(BEFORE)), len(units.province_codes(AFTER))) == (63, 34)
    assert ADMINISTRATIVE_UNITS_VERSION.startswith("2025-07-01")


def test_the_merged_vinh_long_replaces_vinh_long_ben_tre_and_tra_vinh():
    units = administrative_units()
    assert units.former_codes("86") == ("86", "83", "84")
    assert units.province_on("86", AFTER).name_vi == "Tỉnh Vĩnh Long"
    assert units.province_on("83", BEFORE).name_vi == "Tỉnh Bến Tre"


def test_every_former_province_leads_to_exactly_one_province_in_force_today():
    units = administrative_units()
    today = units.province_codes(date(2026, 1, 1))
    assert {units.successor(code) for code in units.province_codes(BEFORE)} == set(today)
    assert units.successor("83") == "86"
    assert units.successor("83", BEFORE) == "83"


def test_every_former_province_is_replaced_by_the_merged_one_that_lists_it():
    units = administrative_units()
    for old in (p for p in units.provinces if p.replaced_by):
        assert old.code in units.former_codes(old.replaced_by), old.code


def test_the_merged_provinces_keep_the_code_of_the_former_province_holding_their_seat():
    units = administrative_units()
    assert {code: units.former_codes(code) for code in ("15", "24", "44", "52", "80", "82", "91")} == {
        "15": ("10", "15"),
        "24": ("27", "24"),
        "44": ("45", "44"),
        "52": ("64", "52"),
        "80": ("72", "80"),
        "82": ("87", "82"),
        "91": ("89", "91"),
    }
    assert all(p.certain for p in units.provinces)


def test_the_merged_vinh_long_has_124_communes_each_replacing_former_ones():
    units = administrative_units()
    after = [c for c in units.communes if c.province_code == "86" and c.in_force_on(AFTER)]
    before = {c.province_code for c in units.communes if c.in_force_on(BEFORE)}
    assert len(after) == 124
    assert before == {"83", "84", "86"}
    ben_tre_ward = next(c for c in after if c.code == "28789")
    assert (ben_tre_ward.name_vi, ben_tre_ward.replaces) == ("Phường Bến Tre", ("28780", "28789", "28906"))


def test_after_the_merger_an_unlisted_commune_of_vinh_long_is_refused_before_it_is_accepted():
    units = administrative_units()
    units.check_address("83", "28765", BEFORE)  # earlier changes are not recorded: accepted as given
    with pytest.raises(AddressError) as refused:
        units.check_address("86", "28765", AFTER)
    assert refused.value.field == "commune_code"


def test_ben_tre_is_a_valid_province_on_the_last_day_before_the_merger_only():
    units = administrative_units()
    units.check_address("83", "28756", BEFORE)
    with pytest.raises(AddressError) as refused:
        units.check_address("83", None, AFTER)
    assert refused.value.field == "province_code"
    assert "'86'" in refused.value.detail


def test_a_former_code_is_accepted_after_the_merger_only_when_the_transition_allows_it():
    units = administrative_units()
    units.check_address("83", "28759", date(2026, 3, 1), former_codes_accepted=True)  # Phường 8, now Phú Khương
    units.check_address("86", "28759", date(2026, 3, 1), former_codes_accepted=True)
    units.check_address("86", "28756", date(2026, 3, 1))  # Phú Khương kept its code
    with pytest.raises(AddressError) as refused:
        units.check_address("86", "28759", date(2026, 3, 1))
    assert refused.value.field == "commune_code"
    assert "ceased on 2025-06-30" in refused.value.detail


def test_a_code_no_province_ever_had_is_refused_on_any_date():
    with pytest.raises(AddressError) as refused:
        administrative_units().check_address("99", None, BEFORE, former_codes_accepted=True)
    assert refused.value.field == "province_code"


def test_a_listed_commune_given_with_another_province_is_refused_naming_the_commune():
    with pytest.raises(AddressError) as refused:
        administrative_units().check_address("79", "28756", BEFORE)
    assert refused.value.field == "commune_code"


def test_a_commune_of_a_province_whose_list_is_not_shipped_is_accepted_as_given():
    administrative_units().check_address("79", "26734", AFTER)
