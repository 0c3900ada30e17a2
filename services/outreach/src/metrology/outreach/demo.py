"""A year (2025) of the Measurement Assurance Programme in Bến Tre, posted over HTTP so that events flow.

Enterprises come from outreach's replica of the registry (`GET /enterprises`: services meet only on Kafka and
HTTP), so the registry's demo data must be loaded first; the first open ones in tax-code order are chosen.
The choice and every date are deterministic (a fixed seed), and every request carries an Idempotency-Key
derived from the data: a second run replays the first answers and adds nothing.
"""

from __future__ import annotations

import hashlib
import random
import time
from datetime import date, timedelta
from typing import Any

import httpx

from metrology.outreach.domain.events import ASSESSMENT_AREAS
from metrology.servicekit.http_commands import RequestRefusedError

ENROLMENTS = 30
CONTACTS = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Minh Cường", "Phạm Thị Dung", "Võ Văn Hải", "Huỳnh Thị Mai"]
OBJECTIVES = [
    "Every Group 2 instrument verified before its due date",
    "Working standards calibrated with traceability to national standards",
    "An instrument register with due dates kept up to date",
    "Measurement method for product quantity documented",
    "Staff trained in measurement and records",
]
CAMPAIGNS = [
    ("2025-03-14", "Hội nghị phổ biến Quyết định 996/QĐ-TTg", "enterprises of the province", "conference", 42),
    ("2025-05-20", "Ngày Đo lường Thế giới 20/5", "enterprises and the public", "radio and television", 120),
    ("2025-06-26", "Tọa đàm đo lường trong kinh doanh xăng dầu", "fuel retailers", "seminar", 35),
    ("2025-08-15", "Tập huấn chương trình đảm bảo đo lường", "food processors", "workshop", 28),
    ("2025-10-09", "Đo lường phục vụ hàng đóng gói sẵn", "packaged-goods producers", "leaflets and website", 60),
    ("2025-11-27", "Đo lường trong ngành nước", "water-supply companies", "seminar", 6),
]


def key(*parts: object) -> str:
    return "demo-outreach-" + hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:40]


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

    def enterprises(self, wait_seconds: float = 120) -> list[dict[str, Any]]:
        """The replica's enterprises (waiting for the registry's events to arrive), in tax-code order."""
        deadline = time.monotonic() + wait_seconds
        while True:
            found = [e for e in self._all_enterprises() if e["closed_on"] is None]
            if len(found) >= ENROLMENTS or time.monotonic() > deadline:
                return sorted(found, key=lambda e: e["tax_code"])
            time.sleep(2)

    def _all_enterprises(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.client.get("/enterprises", params={"limit": 500, "offset": len(items)})
            page.raise_for_status()
            batch = page.json()["items"]
            items += batch
            if len(batch) < 500:
                return items

    def participation(self, rng: random.Random, enterprise: dict[str, Any], n: int) -> None:
        eid = enterprise["enterprise_id"]
        enrolled = date(2025, 1, 6) + timedelta(days=rng.randrange(150))
        body: dict[str, Any] = {"enterprise_id": eid, "enrolled_on": enrolled.isoformat(), "consent": True}
        body |= {"contact_name": rng.choice(CONTACTS), "contact_role": "Trưởng phòng kỹ thuật"}
        pid = self.post("/participations", body, key("enrol", eid), "participations")["id"]
        base = f"/participations/{pid}"
        assessed = enrolled + timedelta(days=rng.randint(14, 40))
        areas = [{"area": a, "rating": rng.randint(1, 4), "notes": ""} for a in ASSESSMENT_AREAS]
        assessment = {"assessed_on": assessed.isoformat(), "assessor": "Chi cục TĐC Bến Tre", "areas": areas}
        self.post(f"{base}/assessment", assessment, key("assess", eid), "assessments")
        if n % 10 == 9:
            withdrawal = {"withdrawn_on": (assessed + timedelta(days=30)).isoformat(), "reason": "business downsized"}
            self.post(f"{base}/withdrawal", withdrawal, key("withdraw", eid), "withdrawals")
            return
        planned = assessed + timedelta(days=rng.randint(10, 30))
        objectives = [{"objective": o, "due_on": "2025-12-31"} for o in rng.sample(OBJECTIVES, 3)]
        plan = {"approved_on": planned.isoformat(), "approved_by": "Giám đốc", "objectives": objectives}
        self.post(f"{base}/plan", plan | {"budget_vnd": rng.randrange(20, 120) * 1_000_000}, key("plan", eid), "plans")
        for i in range(rng.randint(1, 3)):
            on = min(planned + timedelta(days=20 * (i + 1)), date(2025, 12, 10))
            support = {"delivered_on": on.isoformat(), "kind": "consultation visit", "description": "On-site advice"}
            self.post(f"{base}/support", support, key("support", eid, i), "support")
            channel = "method" if i == 1 else "consultation"
            access = {"occurred_on": on.isoformat(), "channel": channel, "note": support["description"]}
            self.post(f"{base}/accesses", access, key("access", eid, i), "accesses")
        evaluation = {"evaluated_on": "2025-12-15", "year": 2025, "objectives_met": rng.randint(1, 3)}
        self.post(f"{base}/evaluations", evaluation | {"findings": "On track"}, key("evaluate", eid), "evaluations")

    def campaigns(self, enterprises: list[dict[str, Any]]) -> None:
        for held_on, title, audience, channel, reached in CAMPAIGNS:
            listed = [e["enterprise_id"] for e in enterprises[: min(reached, 10)]]
            body: dict[str, Any] = {"held_on": held_on, "title": title, "audience": audience, "channel": channel}
            body |= {"enterprises_reached": reached, "enterprise_ids": listed, "people_reached": reached * 2}
            self.post("/campaigns", body, key("campaign", held_on, title), "campaigns")


def load(url: str, token: str, seed: int = 83) -> dict[str, int]:
    """Post the year's programme to outreach at `url`; returns how many of each were newly created."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        loader = DemoLoader(client)
        rng = random.Random(seed)
        known = loader.enterprises()
        chosen = sorted(rng.sample(known, min(ENROLMENTS, len(known))), key=lambda e: e["tax_code"])
        for n, enterprise in enumerate(chosen):
            loader.participation(random.Random(f"{seed}:{enterprise['tax_code']}"), enterprise, n)
        loader.campaigns(chosen)
    return loader.counts
