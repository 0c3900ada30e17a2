"""A year (2025) of metrology training in Bến Tre, posted over HTTP so that events flow.

Ten courses, ~150 trainees from enterprises, providers and state agencies, attendance on every course day,
assessment scores, most passing. Deterministic (a fixed seed); every request carries an Idempotency-Key derived
from the data, so a second run replays the first answers and adds nothing. Names and ID numbers are invented.
"""

from __future__ import annotations

import hashlib
import random
from datetime import date, timedelta
from typing import Any

import httpx

from metrology.servicekit.http_commands import RequestRefusedError

COURSES = [
    ("Kiểm định cột đo nhiên liệu", "verification of fuel dispensers", "volume", "2025-03-10", 3),
    ("Kiểm định đồng hồ nước lạnh", "verification of cold-water meters", "flow", "2025-04-07", 2),
    ("Kiểm định cân phân tích và cân kỹ thuật", "verification of analytical scales", "mass", "2025-05-12", 3),
    ("Chương trình đảm bảo đo lường trong doanh nghiệp", "measurement assurance programme", "general", "2025-05-26", 2),
    ("Đo lường hàng đóng gói sẵn", "quantity of prepackaged goods", "mass", "2025-06-16", 1),
    ("Kiểm định công tơ điện xoay chiều", "verification of electricity meters", "electricity", "2025-07-14", 3),
    ("Hiệu chuẩn nhiệt kế và áp kế", "calibration of thermometers and manometers", "temperature", "2025-08-18", 2),
    ("Đánh giá độ không đảm bảo đo", "measurement uncertainty", "general", "2025-09-15", 2),
    ("Quản lý nhà nước về đo lường cho cấp xã", "legal metrology for communes", "legal", "2025-10-20", 1),
    ("Kiểm định cân ô tô", "verification of weighbridges", "mass", "2025-11-17", 2),
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Võ", "Phan", "Trương", "Bùi", "Đặng"]
MIDDLE = ["Văn", "Thị", "Minh", "Thanh", "Hoàng", "Ngọc"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hiếu", "Khoa", "Lan", "Nhân", "Phương", "Quang", "Tâm", "Vy"]
ORGANISATIONS = [
    ("enterprise", "Công ty CP Cấp thoát nước Bến Tre"),
    ("enterprise", "Công ty TNHH Xăng dầu Bến Tre"),
    ("enterprise", "Công ty CP Thủy sản Bến Tre"),
    ("enterprise", "Công ty TNHH Kẹo dừa Thanh Long"),
    ("provider", "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Bến Tre"),
    ("provider", "Công ty TNHH Kiểm định Đo lường Miền Tây"),
    ("state-agency", "Chi cục Tiêu chuẩn Đo lường Chất lượng"),
    ("state-agency", "UBND xã Châu Thành"),
]


def key(*parts: object) -> str:
    return "demo-training-" + hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()[:40]


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

    def course(self, rng: random.Random, n: int, spec: tuple[str, str, str, str, int]) -> None:
        title, topic, field, starts, days = spec
        starts_on = date.fromisoformat(starts)
        ends_on = starts_on + timedelta(days=days - 1)
        body: dict[str, Any] = {"title": title, "topic": topic, "field": field, "organiser": "Chi cục TĐC Bến Tre"}
        body |= {"trainer": "Trung tâm Kỹ thuật TĐC 3", "audience": "enterprises, providers, state agencies"}
        body |= {"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat(), "pass_mark": 50}
        course_id = self.post("/courses", body, key("course", title), "courses")["id"]
        for i in range(rng.randint(12, 18)):
            self.trainee(rng, course_id, n, i, starts_on, days)

    def trainee(self, rng: random.Random, course_id: str, n: int, i: int, starts_on: date, days: int) -> None:
        kind, organisation = rng.choice(ORGANISATIONS)
        born = date(1970, 1, 1) + timedelta(days=rng.randrange(365 * 33))
        id_number = f"083{born.year % 1000:03d}{n:02d}{i:04d}"
        person = {
            "full_name": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            "date_of_birth": born.isoformat(),
            "id_number": id_number,
            "phone": f"09{rng.randrange(10**8):08d}",
            "organisation_kind": kind,
            "organisation_name": organisation,
            "registered_on": (starts_on - timedelta(days=7)).isoformat(),
        }
        trainee_id = self.post("/trainees", person, key("trainee", id_number), "trainees")["id"]
        base = f"/courses/{course_id}"
        enrolment = {"trainee_id": trainee_id, "enrolled_on": person["registered_on"]}
        self.post(f"{base}/trainees", enrolment, key("enrol", course_id, id_number), "enrolments")
        for d in range(days):
            day = (starts_on + timedelta(days=d)).isoformat()
            present = rng.random() > 0.05
            body = {"trainee_id": trainee_id, "day": day, "present": present}
            self.post(f"{base}/attendance", body, key("attend", course_id, id_number, day), "attendance")
        last_day = (starts_on + timedelta(days=days - 1)).isoformat()
        score = round(rng.triangular(35, 98, 80), 1)
        assessment = {"trainee_id": trainee_id, "score": score, "assessed_on": last_day}
        self.post(f"{base}/assessments", assessment, key("assess", course_id, id_number), "assessments")
        completion = {"trainee_id": trainee_id, "passed": score >= 50, "completed_on": last_day}
        self.post(f"{base}/completions", completion, key("complete", course_id, id_number), "completions")


def load(url: str, token: str, seed: int = 83) -> dict[str, int]:
    """Post the year's training to the training service at `url`; returns how many of each were newly created."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        loader = DemoLoader(client)
        for n, spec in enumerate(COURSES):
            loader.course(random.Random(f"{seed}:{spec[0]}"), n, spec)
    return loader.counts
