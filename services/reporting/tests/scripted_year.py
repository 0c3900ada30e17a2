"""A scripted year (2025) of catalogue-shaped events for Bến Tre, and the KPIs computed by hand from it.

The expected numbers below are worked out from the script directly, without the service's code, following the
counting rules of DOMAIN.md; each fact carries a comment saying whether and why it counts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import JsonDict

TENANT = "83"
CITY = "28756"  # a ward of Bến Tre city, named in the plan's T5 region
ELSEWHERE = "28900"


@dataclass
class Fact:
    service: str
    type: str
    stream: str
    data: JsonDict

    def envelope(self, version: int = 1, event_id: str | None = None) -> Envelope:
        return Envelope(
            id=event_id or str(uuid.uuid4()),
            type=f"vn.metrology.{self.service}.{self.type}.v1",
            source=f"/metrology/{self.service}",
            time=_now(),
            stream_id=self.stream,
            stream_version=version,
            tenant=TENANT,
            correlation_id=str(uuid.uuid4()),
            subject=self.stream,
            data=self.data,
        )


def _now() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


@dataclass
class Script:
    facts: list[Fact] = field(default_factory=list)

    def add(self, service: str, type_: str, stream: str, occurred_on: str, **data: Any) -> None:
        self.facts.append(Fact(service, type_, stream, {"occurred_on": occurred_on, **data}))

    def envelopes(self) -> list[Envelope]:
        """Each fact once, plus one re-delivery of the same envelope (the relay re-sending) at the end."""
        versions: dict[str, int] = {}
        out = []
        for fact in self.facts:
            versions[fact.stream] = versions.get(fact.stream, 0) + 1
            out.append(fact.envelope(versions[fact.stream]))
        return [*out, out[len(out) // 2]]


def build() -> Script:
    s = Script()
    reg, ver, out, tr = "registry", "verification", "outreach", "training"

    # providers: P1 state, P2 and P3 socialised in the province, P4 socialised in Hồ Chí Minh City (79)
    for pid, ownership, province in (
        ("p1", "state", "83"),
        ("p2", "socialised", "83"),
        ("p3", "socialised", "83"),
        ("p4", "socialised", "79"),
    ):
        s.add(
            reg,
            "provider-registered",
            f"provider-{pid}",
            "2024-01-01",
            provider_id=pid,
            name=f"Provider {pid}",
            ownership=ownership,
            province_code=province,
            commune_code=CITY,
            fields=["mass"],
        )
    s.add(
        reg,
        "provider-designated",
        "provider-p1",
        "2024-01-01",
        provider_id="p1",
        designation_id="d1",
        decision_number="1/QĐ",
        instrument_types=["2.6"],
        fields=["mass"],
        valid_from="2024-01-01",
        valid_until="2029-01-01",
    )
    # d2: valid to 2025-05-31, renewed on 2025-05-20 to 2030-05-31
    s.add(
        reg,
        "provider-designated",
        "provider-p2",
        "2024-06-01",
        provider_id="p2",
        designation_id="d2",
        decision_number="2/QĐ",
        instrument_types=["2.7"],
        fields=["mass"],
        valid_from="2024-06-01",
        valid_until="2025-05-31",
    )
    s.add(
        reg,
        "designation-renewed",
        "provider-p2",
        "2025-05-20",
        provider_id="p2",
        designation_id="d2",
        valid_until="2030-05-31",
    )
    # d3: from 2025-03-01, revoked 2025-09-15
    s.add(
        reg,
        "provider-designated",
        "provider-p3",
        "2025-03-01",
        provider_id="p3",
        designation_id="d3",
        decision_number="3/QĐ",
        instrument_types=["2.4"],
        fields=["length"],
        valid_from="2025-03-01",
        valid_until="2030-03-01",
    )
    s.add(
        reg,
        "designation-revoked",
        "provider-p3",
        "2025-09-15",
        provider_id="p3",
        designation_id="d3",
        reason="misconduct",
    )
    s.add(
        reg,
        "provider-designated",
        "provider-p4",
        "2024-01-01",
        provider_id="p4",
        designation_id="d4",
        decision_number="4/QĐ",
        instrument_types=["2.6"],
        fields=["mass"],
        valid_from="2024-01-01",
        valid_until="2029-01-01",
    )

    # laboratories
    s.add(
        reg,
        "laboratory-registered",
        "laboratory-l1",
        "2023-01-01",
        laboratory_id="l1",
        name="Lab 1",
        owner="x",
        province_code="83",
        commune_code=CITY,
    )
    s.add(
        reg,
        "laboratory-accredited",
        "laboratory-l1",
        "2024-01-01",
        laboratory_id="l1",
        accreditation_number="A1",
        scope=["mass"],
        valid_from="2024-01-01",
        valid_until="2028-12-31",
    )
    s.add(
        reg,
        "laboratory-assessed",
        "laboratory-l1",
        "2025-04-10",
        laboratory_id="l1",
        assessment_id="a1",
        criteria="TCVN 13187:2020",
        passed=True,
        assessor="STAMEQ",
    )  # counts from 2025-04-10
    s.add(
        reg,
        "laboratory-registered",
        "laboratory-l2",
        "2023-01-01",
        laboratory_id="l2",
        name="Lab 2",
        owner="x",
        province_code="83",
        commune_code=CITY,
    )
    s.add(
        reg,
        "laboratory-accredited",
        "laboratory-l2",
        "2025-03-01",
        laboratory_id="l2",
        accreditation_number="A2",
        scope=["mass"],
        valid_from="2025-03-01",
        valid_until="2029-12-31",
    )
    s.add(
        reg,
        "laboratory-assessed",
        "laboratory-l2",
        "2025-02-01",
        laboratory_id="l2",
        assessment_id="a2",
        criteria="TCVN 13187:2020",
        passed=True,
        assessor="STAMEQ",
    )  # before its accreditation: never counts
    s.add(
        reg,
        "laboratory-registered",
        "laboratory-l3",
        "2023-01-01",
        laboratory_id="l3",
        name="Lab 3",
        owner="x",
        province_code="83",
        commune_code=ELSEWHERE,
    )
    s.add(
        reg,
        "laboratory-accredited",
        "laboratory-l3",
        "2024-01-01",
        laboratory_id="l3",
        accreditation_number="A3",
        scope=["mass"],
        valid_from="2024-01-01",
        valid_until="2028-12-31",
    )
    s.add(
        reg,
        "laboratory-assessed",
        "laboratory-l3",
        "2025-05-01",
        laboratory_id="l3",
        assessment_id="a3",
        criteria="TCVN 13187:2020",
        passed=True,
        assessor="STAMEQ",
    )  # outside the city: never counts
    s.add(
        reg,
        "laboratory-registered",
        "laboratory-l4",
        "2023-01-01",
        laboratory_id="l4",
        name="Lab 4",
        owner="x",
        province_code="83",
        commune_code=CITY,
    )
    s.add(
        reg,
        "laboratory-accredited",
        "laboratory-l4",
        "2024-01-01",
        laboratory_id="l4",
        accreditation_number="A4",
        scope=["mass"],
        valid_from="2024-01-01",
        valid_until="2028-12-31",
    )
    s.add(
        reg,
        "laboratory-assessed",
        "laboratory-l4",
        "2025-06-01",
        laboratory_id="l4",
        assessment_id="a4",
        criteria="TCVN 13187:2020",
        passed=False,
        assessor="STAMEQ",
    )  # failed: never counts

    # training: 10 pass in March, 2 fail; 5 pass in October; one (person, course) recorded twice
    for i in range(12):
        s.add(tr, "trainee-completed", "course-c1", "2025-03-20", course_id="c1", trainee_id=f"t{i}", passed=i < 10)
    s.add(tr, "trainee-completed", "course-c1", "2025-03-21", course_id="c1", trainee_id="t0", passed=True)
    for i in range(5):
        s.add(tr, "trainee-completed", "course-c2", "2025-10-05", course_id="c2", trainee_id=f"t{i}", passed=True)

    # enterprises and the programme
    sectors = {"e1": "food", "e2": "fuel", "e3": "food", "e4": "water", "e5": "fuel", "e6": "food"}
    for eid, sector in sectors.items():
        s.add(
            reg,
            "enterprise-registered",
            f"enterprise-{eid}",
            "2024-01-01",
            enterprise_id=eid,
            tax_code="0300588569",
            name=eid,
            sector=sector,
            address="x",
            province_code="83",
            commune_code=CITY,
        )
    for eid in ("e1", "e2", "e3", "e4"):
        s.add(
            out,
            "enterprise-enrolled",
            f"participation-{eid}",
            "2025-02-01",
            participation_id=f"pa-{eid}",
            enterprise_id=eid,
        )
    s.add(out, "enterprise-enrolled", "participation-e5", "2025-08-01", participation_id="pa-e5", enterprise_id="e5")
    s.add(out, "enterprise-withdrawn", "participation-e4", "2025-06-30", participation_id="pa-e4", enterprise_id="e4")

    def job(
        job_id: str,
        day: str,
        kind: str,
        owner: str | None,
        subject_id: str,
        type_code: str | None,
        provider: str,
        province: str,
        result: str = "pass",
        valid_until: str | None = None,
    ) -> None:
        s.add(
            ver,
            "work-recorded",
            f"job-{job_id}",
            day,
            job_id=job_id,
            kind=kind,
            mode="periodic",
            subject="instrument",
            subject_id=subject_id,
            type_code=type_code,
            owner_enterprise_id=owner,
            provider_id=provider,
            provider_province_code=province,
            verifier_id="v1",
            result=result,
        )
        if valid_until:
            s.add(
                ver,
                "certificate-issued",
                f"job-{job_id}",
                day,
                certificate_number=f"C-{job_id}",
                job_id=job_id,
                subject_id=subject_id,
                valid_until=valid_until,
            )

    # T4 jobs: e1 calibration each month Mar..Dec (10), e2 consultation access (1) and testing (1), an access
    # recorded by the saga for e1's March job (same job: no extra count), e5 before enrolment (no), e5 after (1),
    # e4 before withdrawal (1) and after (no), e6 never enrolled (no)
    for month in range(3, 13):
        job(f"cal-{month}", f"2025-{month:02d}-10", "calibration", "e1", f"std-{month}", None, "p1", "83")
    s.add(
        out,
        "access-recorded",
        "participation-e1",
        "2025-03-10",
        access_id="x1",
        participation_id="pa-e1",
        enterprise_id="e1",
        channel="calibration",
        source_job_id="cal-3",
    )
    s.add(
        out,
        "access-recorded",
        "participation-e2",
        "2025-04-15",
        access_id="x2",
        participation_id="pa-e2",
        enterprise_id="e2",
        channel="consultation",
    )
    job("test-e2", "2025-05-05", "testing", "e2", "std-e2", None, "p1", "83")
    job("e5-early", "2025-07-01", "calibration", "e5", "std-e5a", None, "p1", "83")
    job("e5-late", "2025-09-01", "calibration", "e5", "std-e5b", None, "p1", "83")
    job("e4-in", "2025-06-01", "calibration", "e4", "std-e4a", None, "p1", "83")
    job("e4-out", "2025-07-01", "calibration", "e4", "std-e4b", None, "p1", "83")
    job("e6", "2025-07-01", "calibration", "e6", "std-e6", None, "p1", "83")

    # T1 instruments (owned by e6, not enrolled, so their verifications add nothing to T4)
    def instrument(iid: str, day: str, type_code: str = "2.6", commune: str = CITY) -> None:
        s.add(
            reg,
            "instrument-registered",
            f"instrument-{iid}",
            day,
            instrument_id=iid,
            type_code=type_code,
            serial=iid,
            manufacturer="m",
            owner_enterprise_id="e6",
            province_code="83",
            commune_code=commune,
        )

    instrument("i1", "2025-02-10")  # due 2025-02-10; verified locally 2025-02-20 -> met
    job("v-i1", "2025-02-20", "verification", "e6", "i1", "2.6", "p1", "83", valid_until="2026-02-28")
    instrument("i2", "2025-03-05", "2.7")  # due 2025-03-05; verified by the HCMC provider -> demand, not met
    job("v-i2", "2025-03-15", "verification", "e6", "i2", "2.7", "p4", "79", valid_until="2026-03-31")
    instrument("i3", "2025-04-01", "2.4", ELSEWHERE)  # due, never verified -> demand, not met
    instrument("i4", "2025-05-01")  # retired before its due date of 2025-05-01? no: retired 2025-06-01 -> demand
    s.add(reg, "instrument-status-changed", "instrument-i4", "2025-06-01", instrument_id="i4", status="retired")
    instrument("i5", "2024-03-01")  # due 2024-03-01 (outside 2025); verified 2024-03-20, cert to 2025-03-31
    job("v-i5", "2024-03-20", "verification", "e6", "i5", "2.6", "p1", "83", valid_until="2025-03-31")
    job("v-i5b", "2025-03-25", "verification", "e6", "i5", "2.6", "p1", "83", result="fail")  # met (a fail counts)
    instrument("i6", "2024-06-01")  # due 2025-06-30 from its 2024 certificate, but retired 2025-05-01 -> no demand
    job("v-i6", "2024-06-10", "verification", "e6", "i6", "2.6", "p1", "83", valid_until="2025-06-30")
    s.add(reg, "instrument-status-changed", "instrument-i6", "2025-05-01", instrument_id="i6", status="retired")
    instrument("i7", "2026-01-15")  # registered after the year: no demand in 2025
    return s


@dataclass(frozen=True)
class Expected:
    person_times: int
    unique_people: int
    enterprise_times: int
    unique_enterprises: int
    channels: dict[str, int]
    socialised_providers: int
    labs: int
    demand: int
    met: int

    @property
    def coverage(self) -> float:
        return self.met / self.demand


def expected(as_of: date) -> Expected:
    """Worked out by hand from the script for the end of 2025 and for mid-year (2025-06-30)."""
    if as_of == date(2025, 12, 31):
        # T3: c1 t0..t9 (10) + c2 t0..t4 (5); t0 on c1 twice counts once; 10 distinct people
        # T4: e1 calibrations Mar..Dec 10 (the saga's access for cal-3 is the same job), e2 consultation 1 and
        #     testing 1, e5-late 1, e4-in 1 = 14; unique e1, e2, e4, e5 = 4
        # T2: p2 (renewed), p3 revoked 2025-09-15 -> 1;  T5: l1 only -> 1
        # T1 (2025-01-01..2025-12-31): due i1, i2, i3, i4, i5 (cert to 2025-03-31); i6 retired before due;
        #     met: i1 (p1), i5 (p1, failed still counts) -> 2 / 5
        return Expected(15, 10, 14, 4, {"calibration": 12, "consultation": 1, "testing": 1}, 1, 1, 5, 2)
    if as_of == date(2025, 6, 30):
        # T4 to 2025-06-30: e1 Mar..Jun 4, e2 2, e4-in 1 = 7; T2: p2 (renewed 05-20) and p3 -> 2
        # T1 (2025-01-01..2025-06-30): i1, i2, i3, i4, i5 due; met i1, i5
        return Expected(10, 10, 7, 3, {"calibration": 5, "consultation": 1, "testing": 1}, 2, 1, 5, 2)
    raise ValueError(as_of)


@dataclass
class FakeRecord:
    """A consumer record as the projector runner reads it, for folding envelopes without a broker."""

    value: bytes
    topic: str = "t"
    partition: int = 0
    offset: int = 0
    key: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class NoDeadLetters:
    """A dead-letter sink for folds that must not produce any."""

    async def send(self, letters: Any) -> None:
        assert list(letters) == []
