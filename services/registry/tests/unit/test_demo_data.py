from collections import Counter
from datetime import date

from metrology.refdata.group2 import group2
from metrology.registry.demo import MERGER, demo_dataset
from metrology.registry.domain import taxcode


def test_the_demo_has_about_sixty_enterprises_with_valid_distinct_tax_codes():
    data = demo_dataset()
    codes = [e["tax_code"] for e in data.enterprises]
    assert 55 <= len(codes) <= 65
    assert len(set(codes)) == len(codes)
    assert all(taxcode.is_valid(code) and code.startswith("13") for code in codes)
    assert set(Counter(e["sector"] for e in data.enterprises)) == {
        "fuel-retail",
        "water-supply",
        "electricity",
        "market",
        "health",
        "food-processing",
        "coconut-products",
        "seafood",
    }


def test_the_demo_instruments_are_common_group2_types_registered_after_their_owner():
    data = demo_dataset()
    owners = {e["tax_code"]: e["registered_on"] for e in data.enterprises}
    assert 350 <= len(data.instruments) <= 450
    assert {i["type_code"] for i in data.instruments} == {"2.19", "2.21a", "2.43b", "2.8b", "2.10", "2.34c", "2.32"}
    for item in data.instruments:
        registered = date.fromisoformat(item["registered_on"])
        kind = group2().type_on(item["type_code"], registered)
        assert date(2024, 1, 1) <= registered <= date(2026, 12, 31)
        assert item["registered_on"] >= owners[item["owner_tax_code"]]
        assert bool(item["type_approval_number"]) == kind.type_approval_required
        assert item["province_code"] == ("83" if registered < MERGER else "86")


def test_the_demo_is_the_same_every_time():
    assert demo_dataset() == demo_dataset()
