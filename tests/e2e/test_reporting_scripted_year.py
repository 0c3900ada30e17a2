"""A scripted year across all five services, over HTTP, and every KPI of the Bến Tre plan checked against numbers
computed here, independently, from the same script.

The script is a short list of dated facts (2023-2025): three providers (state and socialised in the province, one
socialised in Hồ Chí Minh City; the socialised local designation renewed, then revoked), six enterprises (one
registered after the 2025 merger, province 86), twelve instruments of three Group 2 types (two retired), 22
verification, calibration and testing jobs with a failure, a revoked certificate, work by the outside provider, a
request sent twice with one Idempotency-Key and a job refused after the revocation; four enterprises in the
Measurement Assurance Programme (one withdrawn mid-year and enrolled again), accesses recorded by hand (one for a
job already counted, one backdated and recorded last, one refused), a campaign; two courses with failing trainees,
a refused second completion and an erasure; four laboratories (in and outside Bến Tre city, an assessment before
the accreditation, one after it ran out, one against other criteria).

Every fact is performed over HTTP in business-date order (the backdated access excepted; training and the
laboratories, which no other service reads, run as lanes of their own beside the rest, each in date order, while
the services are still starting up). The expected values come from small pure functions below that follow the
counting rules of `/work/shared/DOMAIN.md` and `docs/kpis.md`, never from service code. The plan's targets
(windows, communes, criteria) are read from the shipped plan file. Reporting is then polled (with a deadline)
until it answers exactly what the script says: plan progress (value, monthly series, details, breakdowns) as of
three dates, and the plain KPIs as of seven.
"""

from __future__ import annotations

import asyncio
import calendar
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from metrology.testkit.services import ServiceProcess, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
PLAN_FILE = REPO / "services" / "reporting" / "src" / "metrology" / "reporting" / "plans" / "ben-tre-2021.yaml"
SERVICES = ("registry", "verification", "outreach", "training", "reporting")
AS_OF = (date(2025, 6, 30), date(2025, 12, 31), date(2026, 3, 31))  # the last: past the 2025 windows
D = date.fromisoformat

# Group 2 verification intervals, dated (from the shipped list libs/refdata/.../group2_instruments.csv:
# Circular 23/2013/TT-BKHCN as amended by 07/2019 and 03/2024; none of these three changed since 2019-01-01).
INTERVALS: list[tuple[str, date, int]] = [("2.8b", D("2019-01-01"), 12), ("2.19", D("2019-01-01"), 12),
                                          ("2.34b", D("2019-01-01"), 6)]  # fmt: skip
REPLICA_LAG_RULES = {"provider-not-designated", "instrument-unknown", "verifier-unknown", "standard-unknown"}
TYPE_APPROVAL = {"2.8b": True, "2.19": True, "2.34b": False}


CONFLICT_PAUSES = (0.05, 0.1, 0.2, 0.4, 0.0)  # seconds before sending a command again; the last answer stands


def _concurrent_change(response: httpx.Response) -> bool:
    return response.status_code == 409 and str(response.json().get("type", "")).endswith(":concurrent-change")


# --- the script's facts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enterprise:
    key: str
    on: date
    name: str
    sector: str
    province: str
    commune: str
    serial: int  # feeds a valid tax code


@dataclass(frozen=True)
class Provider:
    key: str
    on: date
    name: str
    ownership: str
    province: str
    commune: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Designation:
    key: str
    provider: str
    on: date
    until: date
    types: tuple[str, ...]
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Renewal:
    designation: str
    on: date
    until: date


@dataclass(frozen=True)
class DesignationRevocation:
    designation: str
    on: date


@dataclass(frozen=True)
class Verifier:
    key: str
    provider: str
    on: date
    card: str
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Standard:
    key: str
    owner: str
    on: date
    level: str
    due: date
    against: str | None = None


@dataclass(frozen=True)
class Instrument:
    key: str
    owner: str
    on: date
    type: str
    province: str
    commune: str


@dataclass(frozen=True)
class Retirement:
    instrument: str
    on: date


@dataclass(frozen=True)
class Job:
    key: str
    on: date
    instrument: str
    provider: str
    verifier: str
    standard: str
    kind: str = "verification"
    mode: str = "periodic"
    result: str = "pass"
    refused: str | None = None  # the rule the service must refuse it with
    sent_twice: bool = False  # the same request again with the same Idempotency-Key


@dataclass(frozen=True)
class CertificateRevocation:
    job: str
    on: date


@dataclass(frozen=True)
class Enrolment:
    key: str
    enterprise: str
    on: date


@dataclass(frozen=True)
class Withdrawal:
    participation: str
    on: date


@dataclass(frozen=True)
class Access:
    key: str
    participation: str
    on: date
    channel: str
    job: str | None = None
    refused: str | None = None
    late: bool = False  # recorded after everything else (backdated)


@dataclass(frozen=True)
class Campaign:
    on: date
    reached: int


@dataclass(frozen=True)
class Course:
    key: str
    on: date
    ends: date
    title: str


@dataclass(frozen=True)
class Trainee:
    key: str
    on: date
    name: str
    id_number: str


@dataclass(frozen=True)
class Completion:
    course: str
    trainee: str
    on: date
    passed: bool
    refused: str | None = None
    enrolled: bool = True  # enrolled in the course first


@dataclass(frozen=True)
class Erasure:
    trainee: str
    on: date


@dataclass(frozen=True)
class Laboratory:
    key: str
    on: date
    name: str
    province: str
    commune: str


@dataclass(frozen=True)
class Accreditation:
    lab: str
    on: date  # valid from
    until: date


@dataclass(frozen=True)
class LabAssessment:
    lab: str
    on: date
    passed: bool
    criteria: str = "TCVN 13187:2020"


SIDE_LANES = (
    (Trainee, Course, Completion, Erasure),
    (Laboratory, Accreditation, LabAssessment),
)  # no other service reads them
CITY, CITY2, CHAU_THANH, MO_CAY, HCMC = "28756", "28777", "28840", "28900", "26734"


def script() -> list[Any]:
    PS, PX, PO = "PS", "PX", "PO"  # state (Bến Tre), socialised (Bến Tre), socialised (Hồ Chí Minh City)
    return [
        # providers, designations, verifiers, standards
        Provider(PS, D("2023-01-05"), "Trung tâm Kỹ thuật TĐC Bến Tre", "state", "83", CITY,
                 ("mass", "temperature", "volume")),
        Designation("DS", PS, D("2023-02-01"), D("2028-01-31"), ("2.8b", "2.34b"), ("mass", "temperature")),
        Verifier("VS", PS, D("2023-03-01"), "KĐV-83-0001", ("mass", "temperature")),
        Provider(PO, D("2023-04-01"), "Công ty CP Kiểm định Sài Gòn", "socialised", "79", HCMC,
                 ("mass", "temperature", "volume")),
        Designation("DO", PO, D("2023-05-01"), D("2028-04-30"), ("2.8b", "2.34b", "2.19"),
                    ("mass", "temperature", "volume")),
        Verifier("VO", PO, D("2023-05-10"), "KĐV-79-0107", ("mass", "temperature", "volume")),
        Provider(PX, D("2023-06-01"), "Công ty TNHH Kiểm định Đồng Khởi", "socialised", "83", CITY2,
                 ("mass", "volume")),
        Standard("REF", PS, D("2023-06-01"), "reference", D("2027-06-01")),
        Standard("WS", PS, D("2023-12-15"), "working", D("2026-12-15"), "REF"),
        Standard("WX", PX, D("2023-12-15"), "working", D("2026-12-15"), "REF"),
        Standard("WO", PO, D("2023-12-15"), "working", D("2026-12-15"), "REF"),
        Designation("DX", PX, D("2024-03-01"), D("2025-05-31"), ("2.8b", "2.19"), ("mass", "volume")),
        Verifier("VX", PX, D("2024-03-05"), "KĐV-83-0002", ("mass", "volume")),
        Renewal("DX", D("2025-05-20"), D("2030-05-19")),  # without it, DX ends on 2025-05-31
        DesignationRevocation("DX", D("2025-09-15")),
        Verifier("VX2", PX, D("2025-09-16"), "KĐV-83-0003", ("mass", "volume")),
        # enterprises (E6 after the merger into Vĩnh Long: province 86)
        Enterprise("E1", D("2024-01-10"), "Công ty CP Cấp thoát nước Bến Tre", "water-supply", "83", CITY, 1),
        Enterprise("E2", D("2024-01-15"), "Công ty TNHH Thủy sản Mỹ An", "seafood", "83", CITY2, 2),
        Enterprise("E3", D("2024-02-20"), "Công ty Xăng dầu Bến Tre", "fuel-retail", "83", CHAU_THANH, 3),
        Enterprise("E4", D("2024-03-05"), "Ban quản lý chợ Bến Tre", "markets", "83", CITY, 4),
        Enterprise("E5", D("2024-03-20"), "Bệnh viện Nguyễn Đình Chiểu", "health", "83", MO_CAY, 5),
        Enterprise("E6", D("2025-07-20"), "Công ty CP Kẹo dừa Mỏ Cày", "coconut-products", "86", MO_CAY, 6),
        # instruments: 2.8b scales (12 months), 2.34b thermometers (6 months), 2.19 fuel dispensers (12 months)
        Instrument("I1", "E1", D("2024-02-01"), "2.8b", "83", CITY),
        Instrument("I2", "E1", D("2024-03-01"), "2.8b", "83", CITY),
        Instrument("I5", "E3", D("2024-04-01"), "2.19", "83", CHAU_THANH),
        Instrument("I6", "E3", D("2024-05-10"), "2.19", "83", CHAU_THANH),
        Instrument("I3", "E2", D("2024-06-01"), "2.34b", "83", CITY2),
        Instrument("I4", "E2", D("2024-08-15"), "2.34b", "83", CITY2),
        Instrument("I7", "E4", D("2024-09-01"), "2.8b", "83", CITY),
        Instrument("I8", "E4", D("2025-01-20"), "2.8b", "83", CITY),
        Instrument("I9", "E5", D("2025-03-01"), "2.34b", "83", MO_CAY),
        Instrument("I10", "E3", D("2025-06-10"), "2.19", "83", CHAU_THANH),
        Instrument("I11", "E6", D("2025-08-01"), "2.8b", "86", MO_CAY),
        Instrument("I12", "E6", D("2025-10-01"), "2.19", "86", MO_CAY),
        Retirement("I6", D("2025-03-01")),
        Retirement("I10", D("2025-11-15")),
        # work
        Job("J01", D("2024-02-05"), "I1", PS, "VS", "WS", mode="initial"),
        Job("J02", D("2024-03-10"), "I2", PX, "VX", "WX", mode="initial"),
        Job("J03", D("2024-04-05"), "I5", PX, "VX", "WX", mode="initial"),
        Job("J04", D("2024-05-15"), "I6", PX, "VX", "WX", mode="initial"),
        Job("J05", D("2024-06-03"), "I3", PS, "VS", "WS", mode="initial"),
        Job("J06", D("2024-08-20"), "I4", PO, "VO", "WO", mode="initial"),
        Job("J07", D("2024-12-31"), "I3", PS, "VS", "WS"),  # due 2025-06-30: clamped, on the boundary
        Job("J08", D("2025-01-25"), "I8", PS, "VS", "WS", mode="initial", sent_twice=True),
        Job("J09", D("2025-02-10"), "I1", PS, "VS", "WS"),
        Job("J10", D("2025-02-18"), "I4", PO, "VO", "WO"),
        Job("J11", D("2025-03-03"), "I9", PO, "VO", "WO", mode="initial"),
        Job("J12", D("2025-03-12"), "I2", PX, "VX", "WX"),
        Job("J13", D("2025-04-08"), "I5", PX, "VX", "WX"),
        CertificateRevocation("J13", D("2025-05-20")),
        Job("J14", D("2025-06-12"), "I10", PX, "VX", "WX", mode="initial"),  # under the renewal
        Job("J15", D("2025-06-05"), "I3", PS, "VS", "WS", result="fail"),
        Job("J16", D("2025-07-10"), "I3", PS, "VS", "WS", mode="after-repair"),
        Job("J17", D("2025-08-05"), "I11", PS, "VS", "WS", mode="initial"),
        Job("J18", D("2025-08-20"), "I1", PS, "VS", "WS", kind="calibration"),
        Job("J19", D("2025-09-01"), "I4", PS, "VS", "WS", kind="calibration"),
        Job("J20", D("2025-09-05"), "I9", PS, "VS", "WS"),
        Job("J21", D("2025-10-03"), "I12", PX, "VX2", "WX", mode="initial", refused="provider-not-designated"),
        Job("J22", D("2025-10-06"), "I12", PO, "VO", "WO", mode="initial"),
        Job("J23", D("2025-11-10"), "I5", PS, "VS", "WS", kind="testing"),
        # the Measurement Assurance Programme
        Enrolment("P3", "E3", D("2024-03-01")),
        Enrolment("P1", "E1", D("2024-06-01")),
        Access("A1", "P1", D("2024-09-10"), "consultation"),
        Enrolment("P2", "E2", D("2025-01-15")),
        Access("A2", "P3", D("2025-03-20"), "method"),
        Enrolment("P5", "E5", D("2025-04-01")),
        Access("A4", "P3", D("2025-06-12"), "verification", job="J14"),  # the job, also recorded by hand
        Access("A3", "P2", D("2025-05-15"), "consultation"),
        Campaign(D("2025-05-20"), 35),
        Access("A7", "P2", D("2025-06-20"), "method", late=True),  # recorded last, after the withdrawal
        Withdrawal("P2", D("2025-07-01")),
        Access("A5", "P2", D("2025-08-01"), "consultation", refused="access-not-covered"),
        Enrolment("P2b", "E2", D("2025-09-01")),  # back in the programme: J19 counts, J16 does not
        Access("A6", "P1", D("2025-10-20"), "consultation"),
        Access("A8", "P5", D("2025-12-05"), "consultation"),
        # training
        *(Trainee(f"T{n}", D("2024-10-20"), name, f"08319000{n:04d}") for n, name in enumerate(
            ["Nguyễn Văn An", "Trần Thị Bích", "Lê Minh Cường", "Phạm Thị Dung", "Võ Văn Em", "Huỳnh Thị Giang"],
            start=1)),
        Course("C1", D("2024-11-04"), D("2024-11-06"), "Kiểm định cân thông dụng"),
        *(Completion("C1", f"T{n}", D("2024-11-06"), n <= 4) for n in range(1, 7)),
        Completion("C1", "T1", D("2024-11-07"), True, refused="completion-recorded"),
        *(Trainee(f"T{n}", D("2025-10-01"), name, f"08319000{n:04d}") for n, name in enumerate(
            ["Đặng Văn Hải", "Bùi Thị Kim", "Đỗ Văn Long"], start=7)),
        Course("C2", D("2025-10-13"), D("2025-10-15"), "Đo lường trong doanh nghiệp"),
        *(Completion("C2", t, D("2025-10-15"), t != "T9") for t in ("T1", "T2", "T5", "T7", "T8", "T9")),
        # T6 never enrolled in C2: the rule training already applies to attendance and assessments
        Completion("C2", "T6", D("2025-10-15"), True, refused="trainee-not-enrolled", enrolled=False),
        Erasure("T3", D("2025-12-10")),
        # laboratories
        Laboratory("L1", D("2023-05-01"), "Phòng thí nghiệm khối lượng TĐC Bến Tre", "83", CITY),
        Laboratory("L3", D("2024-01-15"), "Phòng thử nghiệm Châu Thành", "83", CHAU_THANH),
        Accreditation("L1", D("2024-01-01"), D("2028-12-31")),
        Laboratory("L2", D("2024-02-01"), "Phòng thử nghiệm nước Đồng Khởi", "83", CITY2),
        Accreditation("L3", D("2024-06-01"), D("2029-05-31")),
        LabAssessment("L2", D("2025-02-10"), True),  # before its accreditation: does not count
        Accreditation("L2", D("2025-03-01"), D("2029-02-28")),
        LabAssessment("L1", D("2025-04-10"), True),
        LabAssessment("L3", D("2025-05-05"), True),  # outside the city
        LabAssessment("L2", D("2025-06-15"), False),
        LabAssessment("L2", D("2025-09-20"), True),
        Laboratory("L4", D("2019-06-01"), "Phòng hiệu chuẩn Phú Khương", "83", "28759"),  # in the city, but:
        Accreditation("L4", D("2020-01-01"), D("2024-12-31")),
        LabAssessment("L4", D("2024-06-01"), True, criteria="ISO/IEC 17025:2017"),  # other criteria
        LabAssessment("L4", D("2025-03-01"), True),  # after its accreditation ran out
    ]  # fmt: skip


def of(facts: list[Any], kind: type) -> list[Any]:
    return [f for f in facts if isinstance(f, kind)]


def accepted(facts: list[Any], kind: type) -> list[Any]:
    return [f for f in of(facts, kind) if getattr(f, "refused", None) is None]


def in_date_order(facts: list[Any]) -> list[Any]:
    """Business-date order (stable); facts marked late are recorded after everything else."""
    indexed = list(enumerate(facts))
    return [f for _, f in sorted(indexed, key=lambda p: (getattr(p[1], "late", False), p[1].on, p[0]))]


# --- the counting rules, written from DOMAIN.md / docs/kpis.md ---------------------------------------------------


def add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def interval_months(type_code: str, on: date) -> int:
    rows = [(start, months) for code, start, months in INTERVALS if code == type_code and start <= on]
    return max(rows)[1]


def month_ends(start: date, end: date) -> list[date]:
    points, day = [], date(start.year, start.month, 1)
    while day <= end:
        points.append(min(date(day.year, day.month, calendar.monthrange(day.year, day.month)[1]), end))
        day = add_months(day, 1)
    return points


def designation_valid_on(facts: list[Any], designation: Designation, day: date) -> bool:
    """Valid from/until inclusive, a renewal dated on or before the day extending it; not revoked on or before."""
    revoked = any(r.designation == designation.key and r.on <= day for r in of(facts, DesignationRevocation))
    renewed = [n.until for n in of(facts, Renewal) if n.designation == designation.key and n.on <= day]
    return not revoked and designation.on <= day <= max([designation.until, *renewed])


def providers_by_key(facts: list[Any]) -> dict[str, Provider]:
    return {p.key: p for p in of(facts, Provider)}


def verifications(facts: list[Any]) -> list[Job]:
    return [j for j in accepted(facts, Job) if j.kind == "verification"]


@dataclass
class Coverage:
    demand: int
    met: int
    designated: int
    period: tuple[date, date]
    by_type: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_commune: dict[str, tuple[int, int]] = field(default_factory=dict)
    by_provider: dict[str, int] = field(default_factory=dict)

    @property
    def value(self) -> float:
        return self.met / self.demand if self.demand else 0.0

    @property
    def designated_share(self) -> float:
        return self.designated / self.demand if self.demand else 0.0


def coverage(facts: list[Any], start: date, end: date, region: tuple[str, ...]) -> Coverage:
    """T1 for the period [start, end]: instruments with a due date in it, not retired before that due date; met by
    an accepted verification (pass or fail) in the period by a provider located in the region."""
    retired = {r.instrument: r.on for r in of(facts, Retirement)}
    providers = providers_by_key(facts)
    due: dict[str, list[date]] = {}
    for instrument in of(facts, Instrument):
        dates = [instrument.on] + [
            add_months(j.on, interval_months(instrument.type, j.on))
            for j in verifications(facts)
            if j.instrument == instrument.key and j.result == "pass" and j.on <= end
        ]
        retired_on = retired.get(instrument.key)
        kept = [d for d in dates if start <= d <= end and not (retired_on is not None and retired_on < d)]
        if kept:
            due[instrument.key] = kept
    local = [j for j in verifications(facts) if start <= j.on <= end and providers[j.provider].province in region]
    met = {key for key in due if any(j.instrument == key for j in local)}
    instruments = {i.key: i for i in of(facts, Instrument)}
    local_designations = [d for d in of(facts, Designation) if providers[d.provider].province in region]
    designated = {
        key
        for key, dates in due.items()
        if any(instruments[key].type in d.types and designation_valid_on(facts, d, day)
               for d in local_designations for day in dates)
    }  # fmt: skip
    result = Coverage(len(due), len(met), len(designated), (start, end))
    for attribute, target in (("type", result.by_type), ("commune", result.by_commune)):
        for key in due:
            value = getattr(instruments[key], attribute)
            demand, met_count = target.get(value, (0, 0))
            target[value] = (demand + 1, met_count + (key in met))
    result.by_provider = dict(Counter(j.provider for j in local if j.instrument in due))
    return result


def socialised_providers(facts: list[Any], day: date, region: tuple[str, ...]) -> set[str]:
    """T2 on D: non-state providers in the region holding a designation valid on D, not revoked on or before D."""
    return {
        p.key
        for p in of(facts, Provider)
        if p.ownership != "state" and p.province in region
        and any(d.provider == p.key and designation_valid_on(facts, d, day) for d in of(facts, Designation))
    }  # fmt: skip


def person_times(facts: list[Any], day: date, start: date) -> tuple[int, int]:
    """T3 on D: distinct (person, course) passed completions on or before D; erasure changes nothing."""
    done = {(c.trainee, c.course) for c in accepted(facts, Completion) if c.passed and start <= c.on <= day}
    return len(done), len({person for person, _ in done})


@dataclass
class EnterpriseTimes:
    times: int
    unique: int
    channels: dict[str, int]
    sectors: dict[str, int]


def enterprise_times(facts: list[Any], day: date, start: date) -> EnterpriseTimes:
    """T4 on D: distinct jobs for an enterprise enrolled in the programme on the job's date (enrolled on or before
    it, not withdrawn on or before it). A job recorded by hand for a verification job is that job."""
    owner = {i.key: i.owner for i in of(facts, Instrument)}
    participation = {e.key: e for e in of(facts, Enrolment)}
    jobs: dict[str, tuple[str, date, str]] = {}  # job identity -> (enterprise, date, channel)
    for j in accepted(facts, Job):
        jobs[j.key] = (owner[j.instrument], j.on, j.kind)
    for a in accepted(facts, Access):
        jobs.setdefault(a.job or a.key, (participation[a.participation].enterprise, a.on, a.channel))

    def enrolled(enterprise: str, on: date) -> bool:
        withdrawn = {w.participation: w.on for w in of(facts, Withdrawal)}
        return any(
            e.enterprise == enterprise and e.on <= on and not (e.key in withdrawn and withdrawn[e.key] <= on)
            for e in of(facts, Enrolment)
        )

    counted = [(who, channel) for who, on, channel in jobs.values() if start <= on <= day and enrolled(who, on)]
    sector = {e.key: e.sector for e in of(facts, Enterprise)}
    return EnterpriseTimes(
        len(counted),
        len({who for who, _ in counted}),
        dict(Counter(channel for _, channel in counted)),
        dict(Counter(sector[who] for who, _ in counted)),
    )


def accredited_labs(facts: list[Any], day: date, communes: tuple[str, ...], criteria: str) -> set[str]:
    """T5 on D: labs in the communes with a passed assessment against the criteria on or before D, dated within
    one of the lab's accreditation windows."""
    return {
        lab.key
        for lab in of(facts, Laboratory)
        if lab.commune in communes
        and any(
            a.lab == lab.key and a.passed and a.criteria == criteria and a.on <= day
            and any(w.lab == lab.key and w.on <= a.on <= w.until for w in of(facts, Accreditation))
            for a in of(facts, LabAssessment)
        )
    }  # fmt: skip


# --- the plan's targets, and what each should read -----------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    id: str
    metric: str
    start: date
    end: date
    provinces: tuple[str, ...]
    communes: tuple[str, ...]
    criteria: str | None


def plan_targets() -> tuple[str, list[Target]]:
    plan = yaml.safe_load(PLAN_FILE.read_text(encoding="utf-8"))
    provinces = tuple(plan["region"]["provinces"])
    targets = [
        Target(
            t["id"], t["metric"], t["window"]["from"], t["window"]["to"],
            tuple((t.get("region") or {}).get("provinces") or provinces),
            tuple((t.get("region") or {}).get("communes") or ()), t.get("criteria"),
        )
        for t in plan["targets"]
    ]  # fmt: skip
    return plan["id"], targets


def coverage_period(target: Target, end: date) -> tuple[date, date]:
    """The twelve months ending on min(D, window end), not before the window starts."""
    return max(add_months(end, -12) + timedelta(days=1), target.start), end


def target_value(facts: list[Any], target: Target, as_of: date) -> float:
    end = min(as_of, target.end)
    match target.metric:
        case "demand-coverage":
            return 0.0 if end < target.start else coverage(facts, *coverage_period(target, end), target.provinces).value
        case "socialised-providers":
            return float(len(socialised_providers(facts, end, target.provinces)))
        case "person-times-trained":
            return float(person_times(facts, end, target.start)[0])
        case "enterprise-times":
            return float(enterprise_times(facts, end, target.start).times)
        case "accredited-labs":
            return float(len(accredited_labs(facts, end, target.communes, target.criteria or "")))
    raise AssertionError(target.metric)


def expected_target(facts: list[Any], target: Target, as_of: date, ids: dict[str, str]) -> dict[str, Any]:
    end = min(as_of, target.end)
    series = [(d.isoformat(), r(target_value(facts, target, d))) for d in month_ends(target.start, end)]
    out: dict[str, Any] = {"value": r(target_value(facts, target, as_of)), "series": series}
    if target.metric == "demand-coverage" and end >= target.start:
        c = coverage(facts, *coverage_period(target, end), target.provinces)
        out |= coverage_details(c, ids)
    elif target.metric == "demand-coverage":
        out |= {"demand": 0, "met": 0}
    elif target.metric == "socialised-providers":
        out["providers"] = sorted(ids[k] for k in socialised_providers(facts, end, target.provinces))
    elif target.metric == "person-times-trained":
        out["unique_people"] = person_times(facts, end, target.start)[1]
    elif target.metric == "enterprise-times":
        t = enterprise_times(facts, end, target.start)
        out |= {"unique_enterprises": t.unique, "channels": t.channels, "sectors": t.sectors}
    elif target.metric == "accredited-labs":
        out["laboratories"] = sorted(
            ids[k] for k in accredited_labs(facts, end, target.communes, target.criteria or "")
        )
    return out


def coverage_details(c: Coverage, ids: dict[str, str]) -> dict[str, Any]:
    return {
        "demand": c.demand,
        "met": c.met,
        "designated_share": r(c.designated_share),
        "period": [c.period[0].isoformat(), c.period[1].isoformat()],
        "by_type": {k: list(v) for k, v in c.by_type.items()},
        "by_commune": {k: list(v) for k, v in c.by_commune.items()},
        "by_provider": {ids[k]: n for k, n in c.by_provider.items()},
    }


def r(value: float) -> float:
    return round(float(value), 9)


# --- reading reporting's answers into the same shape -------------------------------------------------------------


def actual_target(t: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"value": r(t["value"]), "series": [(p["date"], r(p["value"])) for p in t["series"]]}
    details, breakdowns = t["details"], t["breakdowns"]
    match t["metric"]:
        case "demand-coverage" if details.get("period", [None])[0] is not None:
            out |= actual_coverage_details(details, breakdowns)
        case "demand-coverage":
            out |= {"demand": details.get("demand"), "met": details.get("met")}
        case "socialised-providers":
            out["providers"] = sorted(row["key"] for row in breakdowns.get("provider", []))
        case "person-times-trained":
            out["unique_people"] = details.get("unique_people")
        case "enterprise-times":
            out |= {
                "unique_enterprises": details.get("unique_enterprises"),
                "channels": details.get("channels"),
                "sectors": {row["key"]: row["value"] for row in breakdowns.get("sector", [])},
            }
        case "accredited-labs":
            out["laboratories"] = sorted(row["key"] for row in breakdowns.get("laboratory", []))
    return out


def actual_coverage_details(details: dict[str, Any], breakdowns: dict[str, Any]) -> dict[str, Any]:
    return {
        "demand": details.get("demand"),
        "met": details.get("met"),
        "designated_share": r(details.get("designated_share", -1)),
        "period": details.get("period"),
        "by_type": {row["key"]: [row["demand"], row["met"]] for row in breakdowns.get("instrument_type", [])},
        "by_commune": {row["key"]: [row["demand"], row["met"]] for row in breakdowns.get("commune", [])},
        "by_provider": {row["key"]: row["value"] for row in breakdowns.get("provider", [])},
    }


# --- performing the script over HTTP ------------------------------------------------------------------------------


def tax_code(serial: int) -> str:
    """A Bến Tre (13) tax code whose tenth digit is the check digit; remainders of 0 are never issued."""
    n = serial * 7919
    while True:
        digits = f"13{n % 10_000_000:07d}"
        remainder = sum(w * int(c) for w, c in zip((31, 29, 23, 19, 17, 13, 7, 5, 3), digits, strict=True)) % 11
        if remainder:
            return digits + str(10 - remainder)
        n += 1


class Driver:
    """Performs each fact with the service that owns it; waits only where a service reads another's replica."""

    def __init__(self, http: dict[str, httpx.AsyncClient], ready: dict[str, asyncio.Task[None]]) -> None:
        self.http = http
        self.ready = ready
        self.ids: dict[str, str] = {}
        self.certificates: dict[str, str] = {}
        self.registry_counts: Counter[str] = Counter()
        self.enterprises = 0
        self.course_members: set[tuple[str, str]] = set()
        self.designation_provider: dict[str, str] = {}
        self.spent: dict[str, float] = {"replica wait": 0.0}
        self.unexpected: list[str] = []

    async def post(self, service: str, path: str, body: dict[str, Any], expect: int = 201, **kw: Any) -> Any:
        """The command, sent again after a `concurrent-change` 409 as an integrator does (docs/reliability.md): the
        outreach saga appends to a participation's stream as it reads verification work, and a withdrawal sent at
        that moment finds the stream moved on. Such a command wrote nothing, so sending it again is safe."""
        client = await self.api(service)
        for pause in CONFLICT_PAUSES:
            response = await client.post(path, json=body, **kw)
            if expect == 409 or not _concurrent_change(response):
                break
            await asyncio.sleep(pause)
        assert response.status_code == expect, f"{service} {path} {body}: {response.status_code} {response.text}"
        return response.json()

    async def refused(self, service: str, path: str, body: dict[str, Any], rule: str) -> None:
        """A command the service must refuse; if it does not, the script goes on (its KPIs will show what the
        accepted fact did) and the test fails at the end, naming it."""
        response = await (await self.api(service)).post(path, json=body)
        if response.status_code not in (409, 422) or response.json().get("rule") != rule:
            self.unexpected.append(
                f"{service} POST {path} {body}: want {rule}, got {response.status_code} {response.text}"
            )

    async def until(self, probe: Any, what: str, seconds: float = 30.0) -> None:
        deadline = time.monotonic() + seconds
        while not await probe():
            assert time.monotonic() < deadline, f"{what} not reached in {seconds}s"
            await asyncio.sleep(0.1)

    async def verification_replica_ready(self) -> None:
        async def probe() -> bool:
            counts = (await (await self.api("verification")).get("/replica")).json()
            return all(counts[table] >= n for table, n in self.registry_counts.items())

        began = time.monotonic()
        await self.until(probe, f"verification's replica of {dict(self.registry_counts)}")
        self.spent["replica wait"] += time.monotonic() - began

    async def outreach_knows_enterprises(self) -> None:
        async def probe() -> bool:
            known = await (await self.api("outreach")).get("/enterprises", params={"limit": 1})
            return known.json()["total"] >= self.enterprises

        await self.until(probe, f"outreach's replica of {self.enterprises} enterprises")

    async def api(self, service: str) -> httpx.AsyncClient:
        """The service's client, once the service is ready (the script starts while the others still start)."""
        await self.ready[service]
        return self.http[service]

    async def perform_all(self, facts: list[Any]) -> None:
        """Date order; training and the laboratories (which no other service reads) run beside the rest, each lane
        in date order too."""
        ordered = in_date_order(facts)
        lanes = [[f for f in ordered if isinstance(f, kinds)] for kinds in SIDE_LANES]
        main = [f for f in ordered if not any(isinstance(f, kinds) for kinds in SIDE_LANES)]

        async def run(lane: list[Any]) -> None:
            for fact in lane:
                await self.perform(fact)

        async with asyncio.TaskGroup() as group:
            for lane in (main, *lanes):
                group.create_task(run(lane))

    async def perform(self, fact: Any) -> None:
        await getattr(self, f"do_{type(fact).__name__.lower()}")(fact)

    # registry
    async def do_enterprise(self, f: Enterprise) -> None:
        body = {"tax_code": tax_code(f.serial), "name": f.name, "sector": f.sector, "address": f"{f.name}, Bến Tre",
                "province_code": f.province, "commune_code": f.commune, "registered_on": f.on.isoformat()}  # fmt: skip
        self.ids[f.key] = (await self.post("registry", "/enterprises", body))["id"]
        self.enterprises += 1

    async def do_provider(self, f: Provider) -> None:
        body = {"name": f.name, "ownership": f.ownership, "province_code": f.province, "commune_code": f.commune,
                "fields": list(f.fields), "registration_certificate_number": f"{f.key}/ĐKDV",
                "registration_certificate_date": f.on.isoformat(), "registered_on": f.on.isoformat()}  # fmt: skip
        self.ids[f.key] = (await self.post("registry", "/providers", body))["id"]
        self.registry_counts["providers"] += 1

    async def do_designation(self, f: Designation) -> None:
        body = {"decision_number": f"{f.key}/QĐ-TĐC", "instrument_types": list(f.types), "fields": list(f.fields),
                "designated_on": f.on.isoformat(), "valid_until": f.until.isoformat()}  # fmt: skip
        path = f"/providers/{self.ids[f.provider]}/designations"
        self.ids[f.key] = (await self.post("registry", path, body))["id"]
        self.designation_provider[f.key] = f.provider
        self.registry_counts["designations"] += 1

    async def do_renewal(self, f: Renewal) -> None:
        provider = self.ids[self.designation_provider[f.designation]]
        path = f"/providers/{provider}/designations/{self.ids[f.designation]}/renewals"
        body = {"renewed_on": f.on.isoformat(), "valid_until": f.until.isoformat(), "decision_number": "R/QĐ-TĐC"}
        await self.post("registry", path, body, expect=200)

    async def do_designationrevocation(self, f: DesignationRevocation) -> None:
        provider = self.ids[self.designation_provider[f.designation]]
        path = f"/providers/{provider}/designations/{self.ids[f.designation]}"
        body = {"revoked_on": f.on.isoformat(), "reason": "verification outside the designated scope"}
        await self.post("registry", f"{path}/revocation", body, expect=200)

    async def do_verifier(self, f: Verifier) -> None:
        body = {"card_number": f.card, "full_name": f"Kiểm định viên {f.card}", "fields": list(f.fields),
                "certified_on": f.on.isoformat()}  # fmt: skip
        self.ids[f.key] = (await self.post("registry", f"/providers/{self.ids[f.provider]}/verifiers", body))["id"]
        self.registry_counts["verifiers"] += 1

    async def do_standard(self, f: Standard) -> None:
        body = {"owner_id": self.ids[f.owner], "name": f"Bộ quả cân {f.key}", "quantity": "mass",
                "measuring_range": "1 g - 20 kg", "accuracy": "F1" if f.level == "reference" else "M1",
                "level": f.level, "certificate_number": f"HC-{f.key}", "calibrated_on": f.on.isoformat(),
                "due_on": f.due.isoformat()}  # fmt: skip
        if f.against:
            body["calibrated_against"] = self.ids[f.against]
        else:
            body["national_standard"] = "Chuẩn quốc gia khối lượng"
        self.ids[f.key] = (await self.post("registry", "/standards", body))["id"]
        self.registry_counts["standards"] += 1

    async def do_instrument(self, f: Instrument) -> None:
        body = {"type_code": f.type, "serial": f"SN-{f.key}", "manufacturer": "Nhơn Hòa",
                "owner_enterprise_id": self.ids[f.owner], "province_code": f.province, "commune_code": f.commune,
                "registered_on": f.on.isoformat()}  # fmt: skip
        if TYPE_APPROVAL[f.type]:
            body["type_approval_number"] = f"PDM {f.type}-2019"
        self.ids[f.key] = (await self.post("registry", "/instruments", body))["id"]
        self.registry_counts["instruments"] += 1

    async def do_retirement(self, f: Retirement) -> None:
        body = {"status": "retired", "changed_on": f.on.isoformat(), "reason": "replaced"}
        await self.post("registry", f"/instruments/{self.ids[f.instrument]}/status", body, expect=200)

    async def do_laboratory(self, f: Laboratory) -> None:
        body = {"name": f.name, "owner": f.name, "province_code": f.province, "commune_code": f.commune,
                "registered_on": f.on.isoformat()}  # fmt: skip
        self.ids[f.key] = (await self.post("registry", "/laboratories", body))["id"]

    async def do_accreditation(self, f: Accreditation) -> None:
        body = {"accreditation_number": f"VILAS {f.lab}", "scope": ["mass"], "valid_from": f.on.isoformat(),
                "valid_until": f.until.isoformat()}  # fmt: skip
        await self.post("registry", f"/laboratories/{self.ids[f.lab]}/accreditations", body)

    async def do_labassessment(self, f: LabAssessment) -> None:
        body = {"assessed_on": f.on.isoformat(), "criteria": f.criteria, "passed": f.passed, "assessor": "Sở KH&CN"}
        await self.post("registry", f"/laboratories/{self.ids[f.lab]}/assessments", body)

    # verification
    async def do_job(self, f: Job) -> None:
        await self.verification_replica_ready()
        body: dict[str, Any] = {
            "kind": f.kind, "mode": f.mode, "subject": "instrument", "subject_id": self.ids[f.instrument],
            "provider_id": self.ids[f.provider], "verifier_id": self.ids[f.verifier], "procedure": "ĐLVN 14:2009",
            "working_standard_id": self.ids[f.standard], "performed_on": f.on.isoformat(), "result": f.result,
        }  # fmt: skip
        if f.result == "fail":
            body["findings"] = "error exceeds the maximum permissible error"
        if f.kind == "calibration":
            body["measurements"] = [{"quantity": "mass", "nominal": 10.0, "measured": 10.0003, "unit": "kg",
                                     "expanded_uncertainty": 0.0005, "coverage_factor": 2.0}]  # fmt: skip
        if f.refused:
            await self.refused("verification", "/jobs", body, f.refused)
            return
        headers = {"Idempotency-Key": f"scripted-{f.key}"}
        answer = await self.post_job(body, headers)
        if f.sent_twice:
            again = await self.post("verification", "/jobs", body, headers=headers)
            assert again["job_id"] == answer["job_id"], "a repeated request is the same job"
        self.ids[f.key] = answer["job_id"]
        for event in answer["events"]:
            if "certificate-issued" in event["type"]:
                self.certificates[f.key] = event["certificate_number"]

    async def post_job(self, body: dict[str, Any], headers: dict[str, str]) -> Any:
        """A job refused for what the replica has not heard yet (a renewal carries no count) is tried again: a
        refused command stores nothing. Anything else, or the same refusal after the deadline, fails the test."""
        deadline = time.monotonic() + 30
        while True:
            response = await (await self.api("verification")).post("/jobs", json=body, headers=headers)
            lagging = response.status_code == 422 and response.json().get("rule") in REPLICA_LAG_RULES
            if not lagging or time.monotonic() > deadline:
                assert response.status_code == 201, f"/jobs {body}: {response.status_code} {response.text}"
                return response.json()
            await asyncio.sleep(0.1)

    async def do_certificaterevocation(self, f: CertificateRevocation) -> None:
        body = {"reason": "sticker found on another dispenser", "revoked_on": f.on.isoformat()}
        await self.post("verification", f"/certificates/{self.certificates[f.job]}/revocations", body)

    # outreach
    async def do_enrolment(self, f: Enrolment) -> None:
        await self.outreach_knows_enterprises()
        body = {"enterprise_id": self.ids[f.enterprise], "enrolled_on": f.on.isoformat(), "consent": True,
                "contact_name": "Nguyễn Văn An"}  # fmt: skip
        self.ids[f.key] = (await self.post("outreach", "/participations", body))["id"]

    async def do_withdrawal(self, f: Withdrawal) -> None:
        body = {"withdrawn_on": f.on.isoformat(), "reason": "production line closed"}
        await self.post("outreach", f"/participations/{self.ids[f.participation]}/withdrawal", body)

    async def do_access(self, f: Access) -> None:
        body = {"occurred_on": f.on.isoformat(), "channel": f.channel, "note": f"scripted {f.key}"}
        if f.job:
            body["source_job_id"] = self.ids[f.job]
        path = f"/participations/{self.ids[f.participation]}/accesses"
        if f.refused:
            await self.refused("outreach", path, body, f.refused)
        else:
            await self.post("outreach", path, body)

    async def do_campaign(self, f: Campaign) -> None:
        body = {"held_on": f.on.isoformat(), "title": "Ngày đo lường thế giới 20/5", "audience": "enterprises",
                "channel": "seminar", "enterprises_reached": f.reached}  # fmt: skip
        await self.post("outreach", "/campaigns", body)

    # training
    async def do_trainee(self, f: Trainee) -> None:
        body = {"full_name": f.name, "date_of_birth": "1990-05-14", "id_number": f.id_number,
                "organisation_kind": "enterprise", "registered_on": f.on.isoformat()}  # fmt: skip
        self.ids[f.key] = (await self.post("training", "/trainees", body))["id"]

    async def do_course(self, f: Course) -> None:
        body = {"title": f.title, "topic": f.title, "organiser": "Chi cục TĐC Bến Tre", "starts_on": f.on.isoformat(),
                "ends_on": f.ends.isoformat(), "pass_mark": 60}  # fmt: skip
        self.ids[f.key] = (await self.post("training", "/courses", body))["id"]

    async def do_completion(self, f: Completion) -> None:
        course, trainee = self.ids[f.course], self.ids[f.trainee]
        if f.enrolled and (f.course, f.trainee) not in self.course_members:
            await self.post("training", f"/courses/{course}/trainees", {"trainee_id": trainee})
            self.course_members.add((f.course, f.trainee))
        body = {"trainee_id": trainee, "passed": f.passed, "completed_on": f.on.isoformat()}
        if f.refused:
            await self.refused("training", f"/courses/{course}/completions", body, f.refused)
        else:
            await self.post("training", f"/courses/{course}/completions", body)

    async def do_erasure(self, f: Erasure) -> None:
        training = await self.api("training")
        response = await training.delete(f"/trainees/{self.ids[f.trainee]}/personal-data")
        assert response.status_code == 200, response.text


# --- the test -----------------------------------------------------------------------------------------------------


KPI_DAYS = (*AS_OF, date(2024, 2, 29), date(2024, 3, 1), date(2025, 9, 14), date(2025, 9, 15))  # T2's edges too
PLAIN = ("socialised-providers", "person-times-trained", "enterprise-times")


async def read_reporting(reporting: httpx.AsyncClient, plan_id: str) -> dict[str, Any]:
    """Every answer the test checks, keyed by what was asked."""

    async def get(path: str, **params: str) -> dict[str, Any]:
        response = await reporting.get(path, params=params)
        response.raise_for_status()
        return response.json()

    async def progress(as_of: date) -> dict[str, Any]:
        answer = await get(f"/plans/{plan_id}/progress", as_of=as_of.isoformat())
        return {t["id"]: actual_target(t) for t in answer["targets"]}

    async def coverage_2024() -> dict[str, Any]:
        answer = await get("/kpis/demand-coverage", **{"from": "2024-01-01", "as_of": "2024-12-31"})
        return {"value": r(answer["value"])} | actual_coverage_details(answer["details"], answer["breakdowns"])

    async def plain(metric: str, as_of: date) -> dict[str, Any]:
        answer = await get(f"/kpis/{metric}", as_of=as_of.isoformat())
        uniques = {k: v for k, v in answer["details"].items() if k in ("unique_people", "unique_enterprises")}
        return {"value": r(answer["value"])} | uniques

    reads = {f"progress {d}": progress(d) for d in AS_OF} | {"kpi demand-coverage 2024": coverage_2024()}
    reads |= {f"kpi {m} {d}": plain(m, d) for d in KPI_DAYS for m in PLAIN}
    return dict(zip(reads, await asyncio.gather(*reads.values()), strict=True))


def expected_readings(facts: list[Any], targets: list[Target], ids: dict[str, str]) -> dict[str, Any]:
    region = targets[0].provinces
    want: dict[str, Any] = {f"progress {d}": {t.id: expected_target(facts, t, d, ids) for t in targets} for d in AS_OF}
    p2024 = coverage(facts, date(2024, 1, 1), date(2024, 12, 31), region)
    want["kpi demand-coverage 2024"] = {"value": r(p2024.value)} | coverage_details(p2024, ids)
    everything = date(2000, 1, 1)
    for d in KPI_DAYS:
        want[f"kpi socialised-providers {d}"] = {"value": float(len(socialised_providers(facts, d, region)))}
        times, people = person_times(facts, d, everything)
        want[f"kpi person-times-trained {d}"] = {"value": float(times), "unique_people": people}
        t4 = enterprise_times(facts, d, everything)
        want[f"kpi enterprise-times {d}"] = {"value": float(t4.times), "unique_enterprises": t4.unique}
    return want


def test_the_script_is_what_the_report_says():
    """The expected numbers, by hand, for the record (and to catch a slip in the pure functions above)."""
    facts, region, mid, end = script(), ("83", "86"), date(2025, 6, 30), date(2025, 12, 31)
    _, targets = plan_targets()
    by_id = {t.id: t for t in targets}
    h1 = coverage(facts, *coverage_period(by_id["demand-coverage-2025"], mid), region)
    year = coverage(facts, *coverage_period(by_id["demand-coverage-2025"], end), region)
    q1 = coverage(facts, *coverage_period(by_id["demand-coverage-2030"], date(2026, 3, 31)), region)
    p2024 = coverage(facts, date(2024, 1, 1), date(2024, 12, 31), region)
    assert (h1.period, h1.demand, h1.met, h1.designated) == ((date(2025, 1, 1), mid), 8, 6, 8)
    assert (year.demand, year.met, year.designated) == (10, 8, 9)
    assert (q1.period, q1.demand, q1.met, q1.designated) == ((date(2026, 1, 1), date(2026, 3, 31)), 5, 0, 5)
    assert (p2024.demand, p2024.met, p2024.designated) == (7, 5, 7)
    assert [len(socialised_providers(facts, d, region)) for d in KPI_DAYS] == [1, 0, 0, 0, 1, 1, 0]
    assert [person_times(facts, d, date(2021, 8, 1)) for d in (mid, end)] == [(4, 4), (9, 7)]
    t4 = [enterprise_times(facts, d, date(2021, 8, 1)) for d in (mid, end)]
    assert [(t.times, t.unique) for t in t4] == [(12, 3), (18, 4)]
    assert t4[1].channels == {"verification": 9, "consultation": 4, "method": 2, "calibration": 2, "testing": 1}
    city = by_id["accredited-labs-2030"].communes
    assert [sorted(accredited_labs(facts, d, city, "TCVN 13187:2020")) for d in (mid, end)] == [["L1"], ["L1", "L2"]]


async def test_a_scripted_year_over_http_gives_every_kpi_of_the_plan(platform):
    started = time.monotonic()
    ready = launch_all(platform)
    admin = {"Authorization": f"Bearer {platform.token('province-admin')}"}
    http = {name: httpx.AsyncClient(base_url=platform.url(name), headers=admin, timeout=30) for name in SERVICES}
    reporting = httpx.AsyncClient(base_url=platform.url("reporting"), timeout=60)  # the public dashboard's reads
    try:
        facts = script()
        driver = Driver(http, ready)
        await driver.perform_all(facts)
        await asyncio.gather(*ready.values())
        performed = time.monotonic()

        plan_id, targets = plan_targets()
        plans = (await reporting.get("/plans")).json()
        assert [t["id"] for t in plans[0]["targets"]] == [t.id for t in targets]
        want = expected_readings(facts, targets, driver.ids)

        deadline = time.monotonic() + 60
        found = await read_reporting(reporting, plan_id)
        while found != want and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
            found = await read_reporting(reporting, plan_id)
        names = {v: k for k, v in driver.ids.items()}
        wrong = differences(named(found, names), named(want, names))
        assert not wrong and not driver.unexpected, "\n".join(["", *driver.unexpected, *wrong])
        print(
            f"\nservices started and script performed in {performed - started:.1f}s "
            f"({driver.spent['replica wait']:.1f}s of it waiting for verification's replica); "
            f"reporting agreed {time.monotonic() - performed:.1f}s later"
        )
    finally:
        for client in [*http.values(), reporting]:
            await client.aclose()
        for task in ready.values():
            task.cancel()


def launch_all(platform: Any, ready_within: float = 180) -> dict[str, asyncio.Task[None]]:
    """All five launched at once (as `platform.start` does one by one, stopped by the fixture); each one's readiness
    is awaited where the script first needs it, with room for a busy machine."""
    ready = {}
    for name in SERVICES:
        log = platform.workdir / f"{name}.log"
        service = platform.services[name] = ServiceProcess(name, free_port(), platform.env_for(name), log).start()
        ready[name] = asyncio.create_task(asyncio.to_thread(service.wait_ready, ready_within))
    return ready


def differences(found: Any, want: Any, path: str = "") -> list[str]:
    """Each answer that is not what the script says, by where it was read."""
    if isinstance(found, dict) and isinstance(want, dict):
        keys = sorted(set(found) | set(want), key=str)
        return [d for k in keys for d in differences(found.get(k), want.get(k), f"{path} / {k}" if path else k)]
    nested = isinstance(found, list) and any(isinstance(v, list | dict) for v in found)
    if nested and isinstance(want, list) and len(found) == len(want):
        return [d for i, (f, w) in enumerate(zip(found, want, strict=True)) for d in differences(f, w, f"{path}[{i}]")]
    return [] if found == want else [f"{path}: reporting says {found!r}, the script says {want!r}"]


def named(value: Any, names: dict[str, str]) -> Any:
    """Service ids replaced by the script's keys, so that a failure reads in the script's terms."""
    if isinstance(value, dict):
        return {names.get(k, k): named(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [named(v, names) for v in value]
    return names.get(value, value) if isinstance(value, str) else value
