from datetime import date

from metrology.reporting.domain import folds
from metrology.reporting.domain.forecast import Forecast
from metrology.reporting.domain.plan import Comparison, Metric, Status, Target, Text, Window
from metrology.reporting.domain.status import target_status

D = date.fromisoformat


def provider(pid: str, ownership: str = "socialised", province: str = "83") -> folds.Provider:
    return folds.Provider(pid, pid, ownership, province)


def designation(pid: str, start: str, end: str, **kw: object) -> folds.Designation:
    return folds.Designation(f"d-{pid}", pid, ("2.6",), D(start), D(end), **kw)  # type: ignore[arg-type]


def test_a_designation_is_valid_from_and_until_inclusive():
    d = designation("p", "2025-01-01", "2025-12-31")
    assert [d.valid_on(D(x)) for x in ("2024-12-31", "2025-01-01", "2025-12-31", "2026-01-01")] == [
        False,
        True,
        True,
        False,
    ]


def test_a_revocation_ends_the_designation_on_its_own_date():
    d = designation("p", "2025-01-01", "2029-12-31", revoked_on=D("2025-09-15"))
    assert d.valid_on(D("2025-09-14")) and not d.valid_on(D("2025-09-15"))


def test_a_renewal_extends_validity_from_the_day_it_was_decided():
    d = designation("p", "2020-01-01", "2025-05-31", renewals=((D("2025-05-20"), D("2030-05-31")),))
    assert d.valid_on(D("2026-01-01"))
    assert not designation("p", "2020-01-01", "2025-05-31").valid_on(D("2026-01-01"))


def test_only_socialised_providers_in_the_region_with_a_valid_designation_count():
    providers = [provider("state", "state"), provider("ok"), provider("far", province="79"), provider("none")]
    designations = [designation(p, "2024-01-01", "2029-01-01") for p in ("state", "ok", "far")]
    counted = folds.socialised_providers(providers, designations, D("2025-06-30"), ("83", "86"))
    assert [p.provider_id for p in counted] == ["ok"]


def lab(commune: str, accredited: tuple[str, str], assessed: str, passed: bool = True) -> folds.Laboratory:
    return folds.Laboratory(
        "l",
        "Lab",
        commune,
        ((D(accredited[0]), D(accredited[0]), D(accredited[1])),),
        ((D(assessed), "TCVN 13187:2020", passed),),
    )


def test_a_lab_counts_from_a_passed_assessment_inside_its_accreditation():
    good = lab("28756", ("2024-01-01", "2028-12-31"), "2025-04-10")
    assert not folds.accredited_labs([good], D("2025-04-09"), ["28756"])
    assert folds.accredited_labs([good], D("2025-04-10"), ["28756"], "TCVN 13187:2020")


def test_a_lab_outside_the_city_or_assessed_outside_accreditation_or_failed_does_not_count():
    labs = [
        lab("28900", ("2024-01-01", "2028-12-31"), "2025-04-10"),
        lab("28756", ("2025-03-01", "2028-12-31"), "2025-02-01"),
        lab("28756", ("2024-01-01", "2028-12-31"), "2025-04-10", passed=False),
    ]
    assert folds.accredited_labs(labs, D("2026-01-01"), ["28756"]) == []


def test_other_criteria_do_not_count_when_the_target_names_its_criteria():
    assert not folds.accredited_labs(
        [lab("28756", ("2024-01-01", "2028-12-31"), "2025-04-10")], D("2026-01-01"), ["28756"], "ISO 9001"
    )


def test_a_type_is_covered_by_a_local_designation_valid_on_the_due_date():
    by_type = folds.designated_types(
        [designation("p", "2025-03-01", "2030-01-01"), designation("far", "2020-01-01", "2030-01-01")],
        [provider("p", "state"), provider("far", province="79")],
        ("83",),
    )
    assert not folds.type_designated_on(by_type, "2.6", D("2025-02-28"))
    assert folds.type_designated_on(by_type, "2.6", D("2025-03-01"))
    assert not folds.type_designated_on(by_type, "2.7", D("2025-03-01"))


def target(metric: Metric, threshold: float, comparison: Comparison = Comparison.AT_LEAST) -> Target:
    return Target(
        id="t",
        title=Text(vi="t", en="t"),
        metric=metric,
        comparison=comparison,
        threshold=threshold,
        deadline=D("2025-12-31"),
        window=Window.model_validate({"from": "2025-01-01", "to": "2025-12-31"}),
    )


def projected(value: float) -> Forecast:
    return Forecast(value, value, value, 0.0, 12)


def test_a_cumulative_count_is_met_as_soon_as_it_reaches_the_threshold():
    assert target_status(target(Metric.PERSON_TIMES_TRAINED, 100), 100, None, D("2025-06-30")) is Status.MET


def test_a_share_is_met_only_at_the_deadline_and_otherwise_follows_its_forecast():
    share = target(Metric.DEMAND_COVERAGE, 0.75, Comparison.GREATER)
    assert target_status(share, 0.8, projected(0.8), D("2025-06-30")) is Status.ON_TRACK
    assert target_status(share, 0.8, projected(0.7), D("2025-06-30")) is Status.AT_RISK
    assert target_status(share, 0.8, projected(0.8), D("2025-12-31")) is Status.MET
    assert target_status(share, 0.75, projected(0.75), D("2025-12-31")) is Status.AT_RISK, "> 75 % is strict"


def test_on_the_deadline_day_a_target_not_yet_met_is_still_at_risk():
    assert target_status(target(Metric.ENTERPRISE_TIMES, 50), 14, projected(60), D("2025-12-31")) is Status.AT_RISK


def test_a_deadline_passed_without_the_threshold_is_missed_not_at_risk():
    count = target(Metric.ENTERPRISE_TIMES, 50)
    assert target_status(count, 14, projected(60), D("2026-01-01")) is Status.MISSED, "a rosy forecast changes nothing"
    assert target_status(count, 14, None, D("2026-11-26")) is Status.MISSED
    share = target(Metric.DEMAND_COVERAGE, 0.75, Comparison.GREATER)
    assert target_status(share, 0.747, projected(0.747), D("2026-01-01")) is Status.MISSED


def test_a_deadline_passed_with_the_threshold_held_stays_met():
    assert target_status(target(Metric.ENTERPRISE_TIMES, 50), 50, None, D("2026-01-01")) is Status.MET
    share = target(Metric.DEMAND_COVERAGE, 0.75, Comparison.GREATER)
    assert target_status(share, 0.8, projected(0.8), D("2027-06-30")) is Status.MET


def test_a_target_whose_window_has_not_opened_is_not_started_rather_than_on_track():
    assert target_status(target(Metric.DEMAND_COVERAGE, 0.85), 0.0, None, D("2024-06-30")) is Status.NOT_STARTED
