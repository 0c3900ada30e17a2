"""The demo history plan: verification chains that follow the dated intervals, with failures and gaps."""

from datetime import date
from itertools import pairwise

from metrology.refdata.group2 import group2
from metrology.verification.demo import Registry, plan_history

TODAY = date(2026, 11, 26)
DESIGNATION = {
    "instrument_types": ["2.8b", "2.19"], "fields": ["mass", "volume"], "valid_from": "2021-01-01",
    "valid_until": "2031-01-01", "revoked_on": None,
}  # fmt: skip


def registry(instruments: int = 300) -> Registry:
    providers = [
        {
            "provider_id": "centre",
            "designations": [DESIGNATION],
            "verifiers": [{"verifier_id": "v1", "fields": ["mass"]}],
        },
        {
            "provider_id": "outside",
            "designations": [DESIGNATION],
            "verifiers": [{"verifier_id": "v9", "fields": ["mass"]}],
        },
    ]
    standards = [
        {"standard_id": "w-mass", "owner_id": "centre", "level": "working", "quantity": "mass", "due_on": "2025-02-19"},
        {
            "standard_id": "r-out",
            "owner_id": "outside",
            "level": "reference",
            "quantity": "mass",
            "due_on": "2027-06-03",
        },
    ]
    items = [
        {"instrument_id": f"i{n}", "serial": f"S{n:04d}", "type_code": "2.8b", "registered_on": "2024-03-01"}
        for n in range(instruments)
    ]
    return Registry(providers, standards, items, outside_id="outside")


def test_the_plan_is_the_same_every_time():
    assert [j.key for j in plan_history(registry(), TODAY)] == [j.key for j in plan_history(registry(), TODAY)]


def test_periodic_verifications_follow_the_interval_in_force_and_never_the_future():
    jobs = [j for j in plan_history(registry(), TODAY) if j.body["kind"] == "verification"]
    by_instrument: dict[str, list] = {}
    for job in jobs:
        by_instrument.setdefault(job.body["subject_id"], []).append(job.body)
    for history in by_instrument.values():
        for previous, following in pairwise(history):
            if previous["result"] == "pass":
                due = group2().next_due("2.8b", date.fromisoformat(previous["performed_on"]))
                assert date.fromisoformat(following["performed_on"]) <= due
    assert all(date.fromisoformat(j.body["performed_on"]) <= TODAY for j in jobs)


def test_the_plan_has_failures_repairs_gaps_and_outside_work():
    plan = plan_history(registry(), TODAY)
    verifications = [j for j in plan if j.body["kind"] == "verification"]
    assert any(j.body["result"] == "fail" for j in verifications)
    assert any(j.body["mode"] == "after-repair" for j in verifications)
    assert len({j.body["subject_id"] for j in verifications}) < 300, "some instruments are left unverified"
    assert any(j.candidates and j.candidates[0].provider_id == "outside" for j in verifications)


def test_working_standards_are_recalibrated_before_they_fall_due():
    calibrations = [j.body for j in plan_history(registry(), TODAY) if j.body["kind"] == "calibration"]
    assert [c["performed_on"] for c in calibrations] == ["2025-02-09", "2026-01-30"]
    assert all(c["measurements"][0]["coverage_factor"] == 2.0 for c in calibrations)
