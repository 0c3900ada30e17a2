"""A realistic Bến Tre demo data set, and a loader that posts it over HTTP so that events flow.

`demo_dataset()` is deterministic (a fixed seed): ~60 enterprises across the province's sectors with tax codes
that pass the check digit (Bến Tre codes start with `13`), the provincial centre and two socialised providers
with designations over the common Group 2 types and their verifiers, three laboratories (two in Bến Tre city,
accredited and assessed), a chain of standards up to national standards, and ~400 instruments registered
between 2024 and 2026.

Administrative codes: the province code is the one valid on each fact's date (`83` Bến Tre before 2025-07-01,
`86` Vĩnh Long from then on). Commune codes are illustrative five-digit codes in Bến Tre's range; the wards
marked `city` stand for Bến Tre city. They are kept after 2025-07-01 for readability; a real deployment takes
the codes of the commune list in force.

`load_demo(url, token)` posts everything with an `Idempotency-Key` derived from the data, so a second run
replays the first answers and adds nothing.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from metrology.registry.domain import taxcode
from metrology.servicekit.http_commands import RequestRefusedError

MERGER = date(2025, 7, 1)  # Bến Tre (83) became part of Vĩnh Long (86)


@dataclass(frozen=True)
class Commune:
    code: str
    name: str
    city: bool = False


COMMUNES = [
    Commune("28756", "Phường An Hội", city=True),
    Commune("28759", "Phường Phú Khương", city=True),
    Commune("28762", "Phường Sơn Đông", city=True),
    Commune("28789", "Phường Bến Tre", city=True),
    Commune("28858", "Xã Hữu Định (Châu Thành)"),
    Commune("28840", "Xã Chợ Lách"),
    Commune("28903", "Xã Mỏ Cày"),
    Commune("28975", "Xã Giồng Trôm"),
    Commune("29032", "Xã Bình Đại"),
    Commune("29098", "Xã Ba Tri"),
    Commune("29152", "Xã Thạnh Phú"),
    Commune("29200", "Xã An Định"),
]
CITY = [c for c in COMMUNES if c.city]
STREETS = ["đường Đồng Khởi", "đường Nguyễn Đình Chiểu", "đường 30/4", "đường Hùng Vương", "Quốc lộ 60", "Quốc lộ 57"]


def province_on(day: date) -> str:
    return "83" if day < MERGER else "86"


def _weekday(rng: random.Random, start: date, end: date) -> date:
    day = start + timedelta(days=rng.randrange((end - start).days + 1))
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return max(day, start)


# (sector, how many, name templates, instrument plan: [(type, how many per enterprise)])
SECTORS: list[tuple[str, int, list[str], list[tuple[str, tuple[int, int]]]]] = [
    (
        "fuel-retail",
        16,
        ["Công ty TNHH Xăng dầu {place}", "DNTN Xăng dầu {place} {n}", "Cửa hàng xăng dầu số {n} – Petrolimex {place}"],
        [("2.19", (3, 6))],
    ),
    (
        "water-supply",
        3,
        ["Công ty CP Cấp thoát nước {place}", "Công ty TNHH Cấp nước {place}"],
        [("2.21a", (30, 40))],
    ),
    ("electricity", 2, ["Điện lực {place}", "Công ty CP Điện lực {place}"], [("2.43b", (35, 45))]),
    ("market", 8, ["Ban Quản lý chợ {place}", "Chợ đầu mối {place}"], [("2.8b", (4, 7))]),
    (
        "health",
        10,
        ["Trung tâm Y tế {place}", "Phòng khám đa khoa {place} {n}", "Bệnh viện đa khoa {place}"],
        [("2.34c", (1, 3)), ("2.32", (1, 3))],
    ),
    (
        "food-processing",
        8,
        ["Công ty CP Chế biến thực phẩm {place}", "Cơ sở chế biến bánh tráng {place} {n}"],
        [("2.8b", (1, 3))],
    ),
    (
        "coconut-products",
        8,
        ["Công ty TNHH Kẹo dừa {place}", "Công ty CP Chế biến dừa {place}", "HTX Dừa sáp {place}"],
        [("2.8b", (1, 2)), ("2.10", (0, 1))],
    ),
    (
        "seafood",
        6,
        ["Công ty CP Thủy sản {place}", "Công ty TNHH Chế biến nghêu {place}"],
        [("2.8b", (1, 2)), ("2.10", (1, 1))],
    ),
]

MANUFACTURERS = {
    "2.19": ["Tatsuno", "Tokheim", "Gilbarco", "Tominco"],
    "2.21a": ["Itron", "Sensus", "Zenner", "Asahi"],
    "2.43b": ["EMIC", "Gelex", "Landis+Gyr"],
    "2.8b": ["Nhơn Hòa", "Vinascale", "Cas"],
    "2.10": ["Mettler Toledo", "Vinacan"],
    "2.34c": ["Microlife", "Omron", "Beurer"],
    "2.32": ["Omron", "ALPK2", "Microlife"],
}
TYPE_APPROVAL = {
    "2.19": "PDM 149-2019",
    "2.21a": "PDM 086-2020",
    "2.43b": "PDM 212-2021",
    "2.8b": "PDM 033-2018",
    "2.10": "PDM 101-2020",
}


@dataclass
class DemoData:
    enterprises: list[dict[str, Any]] = field(default_factory=list)
    providers: list[dict[str, Any]] = field(default_factory=list)
    laboratories: list[dict[str, Any]] = field(default_factory=list)
    standards: list[dict[str, Any]] = field(default_factory=list)
    instruments: list[dict[str, Any]] = field(default_factory=list)
    retirements: list[dict[str, Any]] = field(default_factory=list)


def demo_dataset(seed: int = 83) -> DemoData:
    rng = random.Random(seed)
    data = DemoData()
    tax_codes: set[str] = set()
    names_taken: set[str] = set()
    for sector, count, names, plan in SECTORS:
        for n in range(1, count + 1):
            enterprise = _enterprise(rng, sector, names, n, tax_codes)
            if enterprise["name"] in names_taken:
                enterprise["name"] += f" – cơ sở {n}"
            names_taken.add(enterprise["name"])
            data.enterprises.append(enterprise)
            data.instruments += _instruments(rng, enterprise, plan)
    data.providers = _providers()
    data.laboratories = _laboratories()
    data.standards = _standards()
    in_use = [i for i in data.instruments if i["registered_on"] < "2025-06-01"]
    for instrument in rng.sample(in_use, 6):
        data.retirements.append(
            {"instrument": _instrument_key(instrument), "status": "retired", "changed_on": "2026-03-16"}
        )
    return data


def _enterprise(rng: random.Random, sector: str, names: list[str], n: int, taken: set[str]) -> dict[str, Any]:
    commune = rng.choice(CITY if sector in ("water-supply", "electricity") else COMMUNES)
    place = commune.name.split(" ", 1)[1]
    registered = _weekday(rng, date(2024, 1, 2), date(2025, 12, 31))
    return {
        "tax_code": _tax_code(rng, taken),
        "name": rng.choice(names).format(place=place, n=n),
        "sector": sector,
        "address": f"{rng.randint(1, 250)} {rng.choice(STREETS)}, {commune.name.lower()[0]}{commune.name[1:]}",
        "province_code": province_on(registered),
        "commune_code": commune.code,
        "contact_name": rng.choice(["Nguyễn Văn", "Trần Thị", "Lê Văn", "Phạm Thị", "Võ Văn", "Huỳnh Thị"])
        + " "
        + rng.choice(["An", "Bình", "Cường", "Dung", "Hạnh", "Lộc", "Mai", "Phúc", "Tâm", "Thảo"]),
        "contact_phone": f"0275 38{rng.randint(10000, 99999)}",
        "registered_on": registered.isoformat(),
    }


def _tax_code(rng: random.Random, taken: set[str]) -> str:
    while True:
        code = taxcode.complete(f"13{rng.randrange(10**7):07d}")
        if code and code not in taken:
            taken.add(code)
            return code


def _instruments(
    rng: random.Random, enterprise: dict[str, Any], plan: list[tuple[str, tuple[int, int]]]
) -> list[dict[str, Any]]:
    owner_from = date.fromisoformat(enterprise["registered_on"])
    items = []
    for type_code, (low, high) in plan:
        for _ in range(rng.randint(low, high)):
            registered = _weekday(rng, owner_from, min(owner_from + timedelta(days=540), date(2026, 10, 30)))
            manufacturer = rng.choice(MANUFACTURERS[type_code])
            items.append(
                {
                    "type_code": type_code,
                    "serial": f"{manufacturer[:3].upper()}-{registered.year}-{rng.randrange(10**6):06d}",
                    "manufacturer": manufacturer,
                    "type_approval_number": TYPE_APPROVAL.get(type_code),
                    "owner_tax_code": enterprise["tax_code"],
                    "province_code": province_on(registered),
                    "commune_code": enterprise["commune_code"],
                    "registered_on": registered.isoformat(),
                }
            )
    return items


def _instrument_key(instrument: dict[str, Any]) -> str:
    return f"{instrument['type_code']}:{instrument['manufacturer']}:{instrument['serial']}"


def _providers() -> list[dict[str, Any]]:
    common = {"province_code": "83"}
    return [
        {
            "body": common
            | {
                "name": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Bến Tre",
                "ownership": "state",
                "commune_code": "28756",
                "fields": ["volume", "flow", "mass", "electricity", "temperature", "pressure"],
                "registration_certificate_number": "01/ĐKDV-TĐC",
                "registration_certificate_date": "2017-03-20",
                "registered_on": "2017-03-20",
            },
            "designations": [
                {
                    "decision_number": "188/QĐ-TĐC",
                    "instrument_types": ["2.19", "2.21a", "2.43b", "2.8b", "2.10", "2.32", "2.34c"],
                    "fields": ["volume", "flow", "mass", "electricity", "temperature", "pressure"],
                    "designated_on": "2021-05-10",
                    "valid_from": "2021-05-10",
                    "valid_until": "2026-05-09",
                    "renewal": {
                        "renewed_on": "2026-04-20",
                        "valid_until": "2031-05-09",
                        "decision_number": "402/QĐ-TĐC",
                    },
                }
            ],
            "verifiers": [
                ("KĐV-83-001", "Nguyễn Văn Hùng", ["volume", "flow"]),
                ("KĐV-83-002", "Trần Thị Kim Loan", ["mass"]),
                ("KĐV-83-003", "Lê Hoàng Phúc", ["electricity"]),
                ("KĐV-83-004", "Phạm Minh Trí", ["temperature", "pressure"]),
                ("KĐV-83-005", "Võ Thị Ngọc Hân", ["volume", "mass"]),
            ],
            "suspended": {
                "card": "KĐV-83-004",
                "on": "2025-03-03",
                "reason": "missing records",
                "reinstated": "2025-06-02",
            },
        },
        {
            "body": common
            | {
                "name": "Công ty CP Kiểm định Kỹ thuật Đo lường Miền Nam – Chi nhánh Bến Tre",
                "ownership": "socialised",
                "commune_code": "28858",
                "fields": ["volume", "mass"],
                "registration_certificate_number": "27/ĐKDV-TĐC",
                "registration_certificate_date": "2023-06-12",
                "registered_on": "2023-06-12",
            },
            "designations": [
                {
                    "decision_number": "1620/QĐ-TĐC",
                    "instrument_types": ["2.19", "2.8b", "2.10"],
                    "fields": ["volume", "mass"],
                    "designated_on": "2023-09-18",
                }
            ],
            "verifiers": [("KĐV-83-101", "Đặng Quốc Bảo", ["volume"]), ("KĐV-83-102", "Huỳnh Thị Mỹ", ["mass"])],
        },
        {
            "body": common
            | {
                "name": "Công ty TNHH Đo lường Thử nghiệm Xứ Dừa",
                "ownership": "socialised",
                "commune_code": "28903",
                "fields": ["flow", "temperature", "pressure"],
                "registration_certificate_number": "31/ĐKDV-TĐC",
                "registration_certificate_date": "2024-02-26",
                "registered_on": "2024-02-26",
            },
            "designations": [
                {
                    "decision_number": "511/QĐ-TĐC",
                    "instrument_types": ["2.21a", "2.32", "2.34c"],
                    "fields": ["flow", "temperature", "pressure"],
                    "designated_on": "2024-05-06",
                }
            ],
            "verifiers": [
                ("KĐV-83-201", "Ngô Thanh Tùng", ["flow"]),
                ("KĐV-83-202", "Châu Ngọc Diễm", ["temperature", "pressure"]),
            ],
        },
    ]


def _laboratories() -> list[dict[str, Any]]:
    return [
        {
            "body": {
                "name": "Phòng thí nghiệm Đo lường – Trung tâm Kỹ thuật TĐC Bến Tre",
                "owner": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Bến Tre",
                "province_code": "83",
                "commune_code": CITY[0].code,
                "registered_on": "2024-01-08",
            },
            "accreditations": [
                {
                    "accreditation_number": "VILAS 612",
                    "accreditation_body": "BoA",
                    "scope": ["mass", "volume", "temperature"],
                    "valid_from": "2023-11-20",
                    "valid_until": "2028-11-19",
                }
            ],
            "assessments": [{"assessed_on": "2025-09-15", "passed": True, "assessor": "Sở Khoa học và Công nghệ"}],
        },
        {
            "body": {
                "name": "Phòng thử nghiệm Công ty CP Cấp thoát nước Bến Tre",
                "owner": "Công ty CP Cấp thoát nước Bến Tre",
                "province_code": "83",
                "commune_code": CITY[1].code,
                "registered_on": "2024-04-15",
            },
            "accreditations": [
                {
                    "accreditation_number": "VILAS 1187",
                    "accreditation_body": "BoA",
                    "scope": ["flow"],
                    "valid_from": "2024-03-01",
                    "valid_until": "2029-02-28",
                }
            ],
            "assessments": [
                {"assessed_on": "2025-04-10", "passed": False, "assessor": "Sở Khoa học và Công nghệ"},
                {"assessed_on": "2026-02-24", "passed": True, "assessor": "Sở Khoa học và Công nghệ"},
            ],
        },
        {
            "body": {
                "name": "Phòng kiểm nghiệm Công ty CP Chế biến dừa Mỏ Cày",
                "owner": "Công ty CP Chế biến dừa Mỏ Cày",
                "province_code": "83",
                "commune_code": "28903",
                "registered_on": "2024-09-09",
            },
            "accreditations": [],
            "assessments": [],
        },
    ]


def _standards() -> list[dict[str, Any]]:
    """Reference standards under national standards, working standards under them (owner: the centre)."""
    return [
        _standard(
            "ref-volume",
            None,
            "Bình chuẩn kim loại hạng 1, 100 L",
            "volume",
            "100 L",
            "±0.02 %",
            "V04.1021.24",
            "2024-02-05",
        ),
        _standard(
            "work-volume-20",
            "ref-volume",
            "Bình chuẩn kim loại hạng 2, 20 L",
            "volume",
            "20 L",
            "±0.05 %",
            "V04.1033.24",
            "2024-03-11",
        ),
        _standard(
            "work-volume-5",
            "ref-volume",
            "Bình chuẩn kim loại hạng 2, 5 L",
            "volume",
            "5 L",
            "±0.05 %",
            "V04.1034.24",
            "2024-03-11",
        ),
        _standard(
            "ref-mass",
            None,
            "Bộ quả cân chuẩn cấp chính xác E2, 1 mg – 20 kg",
            "mass",
            "1 mg – 20 kg",
            "E2",
            "M01.0456.24",
            "2024-01-22",
        ),
        _standard(
            "work-mass",
            "ref-mass",
            "Bộ quả cân chuẩn cấp chính xác M1, 20 kg × 50",
            "mass",
            "1 t",
            "M1",
            "M01.0501.24",
            "2024-02-19",
        ),
        _standard(
            "ref-energy",
            None,
            "Công tơ điện chuẩn 3 pha cấp 0.05",
            "electrical energy",
            "3 × 220/380 V, 0–100 A",
            "cấp 0.05",
            "E05.0077.25",
            "2025-01-13",
        ),
        _standard(
            "work-energy",
            "ref-energy",
            "Giàn kiểm định công tơ 1 pha 24 vị trí, cấp 0.2",
            "electrical energy",
            "220 V, 0–60 A",
            "cấp 0.2",
            "E05.0091.25",
            "2025-02-10",
        ),
    ]


NATIONAL = {
    "volume": "Chuẩn quốc gia dung tích – Viện Đo lường Việt Nam",
    "mass": "Chuẩn quốc gia khối lượng (kilôgam) – Viện Đo lường Việt Nam",
    "electrical energy": "Chuẩn quốc gia điện năng – Viện Đo lường Việt Nam",
}


def _standard(
    key: str, against: str | None, name: str, quantity: str, span: str, accuracy: str, certificate: str, calibrated: str
) -> dict[str, Any]:
    calibrated_on = date.fromisoformat(calibrated)
    return {
        "key": key,
        "against": against,
        "body": {
            "name": name,
            "quantity": quantity,
            "measuring_range": span,
            "accuracy": accuracy,
            "level": "working" if against else "reference",
            "national_standard": None if against else NATIONAL[quantity],
            "certificate_number": certificate,
            "calibrated_on": calibrated,
            "due_on": (calibrated_on + timedelta(days=365 if against else 730)).isoformat(),
        },
    }


def idempotency_key(key: str) -> str:
    """An ASCII header value derived from the data (names and card numbers carry Vietnamese letters)."""
    return "demo-" + hashlib.sha256(key.encode()).hexdigest()[:40]


class DemoLoader:
    """Posts the data set; every request carries an Idempotency-Key derived from its data."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self.counts: dict[str, int] = {}

    def post(self, path: str, body: dict[str, Any], key: str, what: str) -> dict[str, Any]:
        response = self.client.post(path, json=body, headers={"Idempotency-Key": idempotency_key(key)})
        if response.status_code not in (200, 201):
            raise RequestRefusedError(response)
        if response.headers.get("Idempotent-Replayed") != "true":
            self.counts[what] = self.counts.get(what, 0) + 1
        return dict(response.json())

    def load(self, data: DemoData) -> dict[str, int]:
        owners = {
            e["tax_code"]: self.post("/enterprises", e, f"enterprise:{e['tax_code']}", "enterprises")["id"]
            for e in data.enterprises
        }
        centre = self._providers(data.providers)
        self._laboratories(data.laboratories)
        self._standards(data.standards, centre)
        instruments = {}
        for item in data.instruments:
            body = {k: v for k, v in item.items() if k != "owner_tax_code"} | {
                "owner_enterprise_id": owners[item["owner_tax_code"]]
            }
            key = _instrument_key(item)
            instruments[key] = self.post("/instruments", body, f"instrument:{key}", "instruments")["id"]
        for change in data.retirements:
            body = {"status": change["status"], "changed_on": change["changed_on"], "reason": "replaced"}
            path = f"/instruments/{instruments[change['instrument']]}/status"
            self.post(path, body, f"status:{change['instrument']}:{change['status']}", "status changes")
        return self.counts

    def _providers(self, providers: list[dict[str, Any]]) -> str:
        ids = []
        for provider in providers:
            cert = provider["body"]["registration_certificate_number"]
            provider_id = self.post("/providers", provider["body"], f"provider:{cert}", "providers")["id"]
            ids.append(provider_id)
            for d in provider["designations"]:
                body = {k: v for k, v in d.items() if k != "renewal"}
                created = self.post(
                    f"/providers/{provider_id}/designations",
                    body,
                    f"designation:{d['decision_number']}",
                    "designations",
                )
                if "renewal" in d:
                    path = f"/providers/{provider_id}/designations/{created['id']}/renewals"
                    self.post(path, d["renewal"], f"renewal:{d['renewal']['decision_number']}", "renewals")
            verifiers = {}
            for card, name, fields in provider["verifiers"]:
                body = {
                    "card_number": card,
                    "full_name": name,
                    "fields": fields,
                    "certified_on": provider["body"]["registered_on"],
                }
                verifiers[card] = self.post(
                    f"/providers/{provider_id}/verifiers", body, f"verifier:{card}", "verifiers"
                )["id"]
            if "suspended" in provider:
                s = provider["suspended"]
                base = f"/providers/{provider_id}/verifiers/{verifiers[s['card']]}"
                self.post(
                    f"{base}/suspension",
                    {"on": s["on"], "reason": s["reason"]},
                    f"suspension:{s['card']}:{s['on']}",
                    "suspensions",
                )
                self.post(
                    f"{base}/reinstatement",
                    {"on": s["reinstated"]},
                    f"reinstatement:{s['card']}:{s['reinstated']}",
                    "reinstatements",
                )
        return ids[0]

    def _laboratories(self, laboratories: list[dict[str, Any]]) -> None:
        for lab in laboratories:
            lab_id = self.post("/laboratories", lab["body"], f"laboratory:{lab['body']['name']}", "laboratories")["id"]
            for a in lab["accreditations"]:
                self.post(
                    f"/laboratories/{lab_id}/accreditations",
                    a,
                    f"accreditation:{a['accreditation_number']}",
                    "accreditations",
                )
            for s in lab["assessments"]:
                self.post(
                    f"/laboratories/{lab_id}/assessments", s, f"assessment:{lab_id}:{s['assessed_on']}", "assessments"
                )

    def _standards(self, standards: list[dict[str, Any]], owner_id: str) -> None:
        ids: dict[str, str] = {}
        for s in standards:
            body = s["body"] | {
                "owner_id": owner_id,
                "calibrated_against": ids.get(s["against"]) if s["against"] else None,
            }
            ids[s["key"]] = self.post("/standards", body, f"standard:{s['body']['certificate_number']}", "standards")[
                "id"
            ]


def load_demo(url: str, token: str, data: DemoData | None = None) -> dict[str, int]:
    """Post the demo data set to the registry at `url`; returns how many of each were newly created."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
        loader = DemoLoader(client)
        loader.load(data or demo_dataset())
    return {
        name: loader.counts.get(name, 0)
        for name in ("enterprises", "providers", "laboratories", "standards", "instruments")
    }
