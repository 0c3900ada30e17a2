"""A year (2025) of state metrological inspection in Bến Tre, posted over HTTP so that events flow.

Instruments come from inspection's replica (`GET /instruments`: services meet only on Kafka and HTTP), so the
registry's and verification's demo data must be loaded first. Three campaigns (fuel stations, markets with
prepackaged goods, hospitals) visit the owners of the campaign's instrument types; each visit finds every such
instrument of its owner (the replica judges registered and overdue) and one unregistered scale or dispenser in
three; findings with defects become a violation, a decision (a fine, or a warning) and, for overdue instruments,
a follow-up verification within 30 days. Choices and dates are deterministic (a fixed seed) and every request
carries an Idempotency-Key derived from the data: a second run adds nothing.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from metrology.servicekit.http_commands import RequestRefusedError

VISITS_PER_CAMPAIGN = 6
INSPECTORS = ["Nguyễn Văn Hùng", "Trần Thị Lan", "Lê Quốc Bảo", "Phạm Minh Tâm"]


@dataclass(frozen=True)
class CampaignPlan:
    title: str
    decision_number: str
    venue_kind: str
    venue: str
    instrument_types: tuple[str, ...]
    prepackaged_goods: bool
    starts_on: date
    ends_on: date


CAMPAIGNS = [
    CampaignPlan("Kiểm tra cột đo xăng dầu", "15/QĐ-TĐC", "fuel-station", "Cửa hàng xăng dầu", ("2.19",), False,
                 date(2025, 4, 1), date(2025, 5, 31)),
    CampaignPlan("Kiểm tra cân tại chợ và hàng đóng gói sẵn", "27/QĐ-TĐC", "market", "Chợ", ("2.8b", "2.10"), True,
                 date(2025, 7, 1), date(2025, 8, 31)),
    CampaignPlan("Kiểm tra phương tiện đo tại bệnh viện", "41/QĐ-TĐC", "hospital", "Bệnh viện", ("2.32", "2.34c"),
                 False, date(2025, 10, 1), date(2025, 11, 15)),
]  # fmt: skip


@dataclass
class VisitPlan:
    campaign: CampaignPlan
    owner: str
    commune_code: str
    visited_on: date
    instrument_ids: list[str]
    unregistered_serial: str | None
    goods_short: bool
    record_number: str = ""
    defects: dict[str, list[str]] = field(default_factory=dict)


def plan_visits(instruments: list[dict[str, Any]], seed: int = 83) -> list[VisitPlan]:
    """Which owners each campaign visits, when, and what the inspectors see (besides the replica's verdicts)."""
    rng = random.Random(seed)
    visits: list[VisitPlan] = []
    for campaign in CAMPAIGNS:
        owned: dict[str, list[dict[str, Any]]] = {}
        for instrument in instruments:
            if instrument["type_code"] in campaign.instrument_types and instrument["status"] == "in-use":
                owned.setdefault(instrument["owner_enterprise_id"], []).append(instrument)
        owners = sorted(owned)[:VISITS_PER_CAMPAIGN]
        days = (campaign.ends_on - campaign.starts_on).days
        for n, owner in enumerate(owners):
            found = sorted(owned[owner], key=lambda i: i["instrument_id"])
            visit = VisitPlan(
                campaign=campaign,
                owner=owner,
                commune_code=found[0]["commune_code"],
                visited_on=campaign.starts_on + timedelta(days=rng.randrange(days)),
                instrument_ids=[i["instrument_id"] for i in found],
                unregistered_serial=f"KĐK-{seed}-{len(visits):03d}" if n % 3 == 0 else None,
                goods_short=campaign.prepackaged_goods and n % 2 == 0,
                record_number=f"{len(visits) + 1:02d}/BB-KT",
            )
            for instrument_id in visit.instrument_ids:
                if rng.random() < 0.15:
                    visit.defects[instrument_id] = [rng.choice(["seal-broken", "no-stamp", "out-of-tolerance"])]
            visits.append(visit)
    return sorted(visits, key=lambda v: (v.visited_on, v.record_number))


def key(*parts: object) -> str:
    return "demo-inspection-" + hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:40]


class DemoLoader:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.counts: dict[str, int] = {}

    def post(self, path: str, body: dict[str, Any], idempotency: str, what: str) -> dict[str, Any]:
        response = self.client.post(path, json=body, headers={"Idempotency-Key": idempotency})
        if response.status_code not in (200, 201):
            raise RequestRefusedError(response)
        if response.headers.get("Idempotent-Replayed") != "true":
            self.counts[what] = self.counts.get(what, 0) + 1
        return dict(response.json())

    def instruments(self, wait_seconds: float = 120) -> list[dict[str, Any]]:
        """The replica's instruments, waiting for the registry's events to arrive."""
        deadline = time.monotonic() + wait_seconds
        while True:
            items = self._all_instruments()
            if items or time.monotonic() > deadline:
                return items
            time.sleep(2)

    def _all_instruments(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.client.get("/instruments", params={"limit": 500, "offset": len(items)})
            page.raise_for_status()
            batch = page.json()["items"]
            items += batch
            if len(batch) < 500:
                return items

    def campaigns(self) -> dict[str, str]:
        plan = {
            "year": 2025, "title": "Kế hoạch kiểm tra nhà nước về đo lường năm 2025",
            "decision_number": "08/QĐ-SKHCN", "approved_by": "Sở Khoa học và Công nghệ", "approved_on": "2025-01-20",
        }  # fmt: skip
        plan_id = self.post("/plans", plan, key("plan", 2025), "plans")["id"]
        ids = {}
        for c in CAMPAIGNS:
            body = {
                "plan_id": plan_id, "title": c.title, "decision_number": c.decision_number,
                "venue_kinds": [c.venue_kind], "instrument_types": list(c.instrument_types),
                "prepackaged_goods": c.prepackaged_goods, "starts_on": c.starts_on.isoformat(),
                "ends_on": c.ends_on.isoformat(),
            }  # fmt: skip
            ids[c.decision_number] = self.post("/campaigns", body, key("campaign", c.decision_number), "campaigns")[
                "id"
            ]
        return ids

    def visit(self, plan: VisitPlan, campaign_id: str) -> None:
        c = plan.campaign
        body = {
            "campaign_id": campaign_id, "record_number": plan.record_number, "venue_kind": c.venue_kind,
            "venue_name": f"{c.venue} ({plan.owner})", "enterprise_id": plan.owner, "commune_code": plan.commune_code,
            "inspectors": INSPECTORS[:2], "visited_on": plan.visited_on.isoformat(),
        }  # fmt: skip
        visit_id = self.post("/visits", body, key("visit", plan.record_number), "visits")["id"]
        path = f"/visits/{visit_id}"
        wrong: list[str] = []
        overdue: list[str] = []
        for instrument_id in plan.instrument_ids:
            sighting = {"instrument_id": instrument_id, "defects": plan.defects.get(instrument_id, [])}
            found = self.post(
                f"{path}/findings", sighting, key("finding", plan.record_number, instrument_id), "findings"
            )
            self._note(found, wrong, overdue)
        if plan.unregistered_serial:
            sighting = {"type_code": c.instrument_types[0], "serial": plan.unregistered_serial, "defects": ["no-stamp"]}
            found = self.post(f"{path}/findings", sighting, key("finding", plan.unregistered_serial), "findings")
            self._note(found, wrong, overdue)
        if plan.goods_short:
            goods = {"subject": "prepackaged-goods", "product": "Đường cát trắng 1 kg", "defects": ["quantity-short"]}
            self._note(self.post(f"{path}/findings", goods, key("goods", plan.record_number), "findings"), wrong, [])
        if wrong:
            self._settle(plan, path, wrong, overdue)

    @staticmethod
    def _note(found: dict[str, Any], wrong: list[str], overdue: list[str]) -> None:
        finding = found["events"][0]
        if finding["defects"]:
            wrong.append(found["id"])
        if finding["verification_status"] == "overdue":
            overdue.append(found["id"])

    def _settle(self, plan: VisitPlan, path: str, wrong: list[str], overdue: list[str]) -> None:
        record = plan.record_number
        violation = {
            "finding_ids": wrong, "legal_basis": "Nghị định 119/2017/NĐ-CP (sửa đổi bởi Nghị định 126/2021/NĐ-CP)",
            "description": "Sử dụng phương tiện đo không đáp ứng yêu cầu đo lường",
        }  # fmt: skip
        violation_id = self.post(f"{path}/violations", violation, key("violation", record), "violations")["id"]
        fined = len(wrong) > 1
        decision = {
            "decision_number": f"{record.split('/')[0]}/QĐ-XPHC", "violation_ids": [violation_id],
            "sanction": "fine" if fined else "warning", "fine_vnd": 2_500_000 * len(wrong) if fined else 0,
            "remedies": ["Kiểm định lại phương tiện đo"], "issued_by": "Chánh Thanh tra Sở KH&CN",
            "issued_on": (plan.visited_on + timedelta(days=7)).isoformat(),
        }  # fmt: skip
        self.post(f"{path}/decisions", decision, key("decision", record), "decisions")
        for finding_id in overdue:
            order = {
                "finding_id": finding_id, "ordered_on": (plan.visited_on + timedelta(days=7)).isoformat(),
                "due_on": (plan.visited_on + timedelta(days=37)).isoformat(),
            }  # fmt: skip
            self.post(f"{path}/follow-ups", order, key("follow-up", record, finding_id), "follow-ups")


def load(url: str, token: str, seed: int = 83) -> dict[str, int]:
    """Post the year's inspections to the inspection service at `url`; returns how many of each were new."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        loader = DemoLoader(client)
        visits = plan_visits(loader.instruments(), seed)
        campaigns = loader.campaigns()
        for visit in visits:
            loader.visit(visit, campaigns[visit.campaign.decision_number])
    return loader.counts
