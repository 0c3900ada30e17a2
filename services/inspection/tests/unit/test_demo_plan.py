"""The demo year's visits are chosen from the replica's instruments, deterministically, within each campaign."""

from __future__ import annotations

from metrology.inspection.demo import CAMPAIGNS, plan_visits


def instruments() -> list[dict[str, str]]:
    owners = [f"ent-{n:02d}" for n in range(10)]
    rows = []
    for n, owner in enumerate(owners):
        for type_code in ("2.19", "2.8b", "2.32", "2.43b"):
            rows.append({"instrument_id": f"i-{n}-{type_code}", "type_code": type_code, "owner_enterprise_id": owner,
                         "commune_code": "28756", "status": "in-use" if n != 3 else "retired"})  # fmt: skip
    return rows


def test_each_campaign_visits_owners_of_its_types_inside_its_dates():
    visits = plan_visits(instruments())
    assert {v.campaign.decision_number for v in visits} == {c.decision_number for c in CAMPAIGNS}
    for visit in visits:
        assert visit.campaign.starts_on <= visit.visited_on <= visit.campaign.ends_on
        assert all(i.split("-")[2] in visit.campaign.instrument_types for i in visit.instrument_ids)
        assert visit.owner != "ent-03", "a retired instrument is not in use"
    assert len({v.record_number for v in visits}) == len(visits)


def test_the_plan_is_the_same_every_time_and_finds_some_unregistered_instruments():
    first, again = plan_visits(instruments()), plan_visits(instruments())
    assert [(v.record_number, v.visited_on, v.defects) for v in first] == [
        (v.record_number, v.visited_on, v.defects) for v in again
    ]
    assert any(v.unregistered_serial for v in first) and not all(v.unregistered_serial for v in first)
