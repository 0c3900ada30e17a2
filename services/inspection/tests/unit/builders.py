"""A plan, a fuel-station campaign and a visit, as the domain sees them (no storage)."""

from __future__ import annotations

from datetime import date
from typing import Any

from metrology.inspection.domain.events import CampaignLaunched, InspectionPlanApproved, VisitRecorded
from metrology.inspection.domain.plan import Campaign, InspectionPlan
from metrology.inspection.domain.visit import Registration, Visit

VISIT_DAY = date(2026, 4, 14)


def plan(year: int = 2026) -> InspectionPlan:
    approved = InspectionPlanApproved(
        occurred_on=date(year, 1, 15), plan_id="p1", year=year, title="Kế hoạch kiểm tra",
        decision_number="125/QĐ-SKHCN", approved_by="Sở KH&CN",
    )  # fmt: skip
    return InspectionPlan.replay([approved])


def launched(**changes: Any) -> CampaignLaunched:
    fields: dict[str, Any] = {
        "occurred_on": date(2026, 4, 1), "campaign_id": "c1", "plan_id": "p1", "title": "Cột đo xăng dầu",
        "decision_number": "42/QĐ-TĐC", "venue_kinds": ["fuel-station", "market"], "instrument_types": ["2.19"],
        "prepackaged_goods": True, "starts_on": date(2026, 4, 1), "ends_on": date(2026, 6, 30),
    }  # fmt: skip
    return CampaignLaunched(**(fields | changes))


def campaign(**changes: Any) -> Campaign:
    return Campaign.replay([launched(**changes)])


def visit(enterprise_id: str | None = "ent-1") -> Visit:
    recorded = VisitRecorded(
        occurred_on=VISIT_DAY, visit_id="v1", campaign_id="c1", record_number="BB-07/2026", venue_kind="fuel-station",
        venue_name="Cửa hàng xăng dầu số 5", enterprise_id=enterprise_id, commune_code="28756",
        inspectors=["Nguyễn Văn A"],
    )  # fmt: skip
    return Visit.replay([recorded])


def dispenser(verified: bool = True, valid_until: date | None = date(2026, 12, 31)) -> Registration:
    return Registration(
        instrument_id="inst-1", type_code="2.19", serial="CD-1", owner_enterprise_id="ent-1", commune_code="28756",
        verified=verified, valid_until=valid_until,
    )  # fmt: skip
