from pathlib import Path

import pytest

from metrology.reporting.adapters.plan_files import PlanFileError, default_plan, load_plan_text, load_plans
from metrology.reporting.domain.plan import Metric

SHIPPED = (Path(__file__).parents[2] / "src/metrology/reporting/plans/ben-tre-2021.yaml").read_text(encoding="utf-8")


def test_the_shipped_ben_tre_plan_names_all_five_targets_for_2025_and_2030():
    plan = default_plan()
    assert plan.tenant == "83"
    assert {t.metric for t in plan.targets} == set(Metric)
    assert {t.deadline.year for t in plan.targets} == {2025, 2030}


def line_of(text: str, fragment: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_a_bad_threshold_is_refused_naming_its_line():
    bad = SHIPPED.replace("threshold: 0.85", "threshold: lots")
    with pytest.raises(PlanFileError, match=rf"other.yaml line {line_of(bad, 'threshold: lots')}: targets.1.threshold"):
        load_plan_text(bad, "other.yaml")


def test_an_unknown_metric_is_refused_naming_its_line():
    bad = SHIPPED.replace("metric: accredited-labs", "metric: happiness")
    with pytest.raises(PlanFileError, match=rf"line {line_of(bad, 'happiness')}: targets.7.metric"):
        load_plan_text(bad, "p.yaml")


def test_a_missing_field_is_refused_naming_the_line_of_its_target():
    bad = SHIPPED.replace("    deadline: 2030-12-31\n    window: {from: 2026-01-01", "    window: {from: 2026-01-01")
    with pytest.raises(PlanFileError, match=r"line \d+: targets.1.deadline: Field required"):
        load_plan_text(bad, "p.yaml")


def test_broken_yaml_is_refused_naming_its_line():
    with pytest.raises(PlanFileError, match=r"p.yaml line 3: not valid YAML"):
        load_plan_text("id: x\ntenant: '83'\n  title: y\n", "p.yaml")


def test_a_share_above_one_and_a_window_backwards_are_refused():
    with pytest.raises(PlanFileError, match="fraction between 0 and 1"):
        load_plan_text(SHIPPED.replace("threshold: 0.75", "threshold: 75"), "p.yaml")
    with pytest.raises(PlanFileError, match="'to' is before 'from'"):
        load_plan_text(SHIPPED.replace("{from: 2025-01-01, to: 2025-12-31}", "{from: 2025-12-31, to: 2025-01-01}"), "p")


def test_another_province_loads_from_its_file_and_two_plans_for_one_tenant_are_refused(tmp_path):
    other = tmp_path / "tra-vinh.yaml"
    other.write_text(SHIPPED.replace('tenant: "83"', 'tenant: "84"').replace("id: ben-tre-996-2021", "id: tra-vinh"))
    assert [p.tenant for p in load_plans([other])] == ["84"]
    with pytest.raises(PlanFileError, match="one plan per tenant"):
        load_plans([other, other])
