from datetime import date
from pathlib import Path

import pytest

from metrology.refdata.admin_units import administrative_units
from metrology.reporting.adapters.plan_files import PlanFileError, load_plan_text, load_plans

SHIPPED = Path(__file__).parents[2] / "src/metrology/reporting/plans"
MERGED = (SHIPPED / "vinh-long.yaml").read_text(encoding="utf-8")


def test_the_shipped_merged_plan_loads_by_name_beside_the_former_provinces_plan():
    ben_tre, vinh_long = load_plans([Path("ben-tre-2021.yaml"), Path("vinh-long.yaml")])
    assert (ben_tre.tenant, vinh_long.tenant) == ("83", "86")
    trained = vinh_long.target("person-times-trained-2030")
    assert vinh_long.tenants_of(trained) == ("86", "83")
    assert ben_tre.tenants_of(ben_tre.target("person-times-trained-2030")) == ("83",)


def test_a_share_that_would_be_summed_is_refused_naming_its_line():
    bad = MERGED.replace("roll_up: recompute", "roll_up: sum")
    with pytest.raises(PlanFileError, match="shares do not add up"):
        load_plan_text(bad, "bad.yaml")


def test_a_target_that_rolls_up_needs_the_plans_it_rolls_up():
    bad = MERGED.replace('rolls_up:\n  - {plan: ben-tre-996-2021, tenant: "83"}\n', "")
    with pytest.raises(PlanFileError, match="names no former plans"):
        load_plan_text(bad, "bad.yaml")


def test_a_former_plan_named_under_another_tenant_than_its_own_is_refused(tmp_path):
    merged = tmp_path / "merged.yaml"
    merged.write_text(MERGED.replace('tenant: "83"}', 'tenant: "84"}'), encoding="utf-8")
    with pytest.raises(PlanFileError, match="rolls up ben-tre-996-2021 as tenant 84"):
        load_plans([Path("ben-tre-2021.yaml"), merged])


def test_the_ben_tre_city_region_names_every_ward_the_former_city_became_on_2025_07_01():
    plan = load_plans([Path("ben-tre-2021.yaml")])[0]
    region = set(plan.target("accredited-labs-2030").region.communes)
    units = administrative_units()
    city = {c.code for c in units.communes if c.note.startswith("Thành phố Bến Tre (829)")}
    wards_now = {c.code for c in units.communes if c.in_force_on(date(2025, 7, 1)) and set(c.replaces) & city}
    assert wards_now == {"28756", "28777", "28783", "28789", "28858"}
    assert wards_now <= region
    assert city <= region, "and every unit of the city before it"
