"""A realistic 2024–2026 history of verifications for the registry's demo data, posted over HTTP.

`load_demo_history(url, token, registry_url=...)` reads the registry (providers with designations and verifiers,
standards, instruments) over its HTTP API, adds one outside provider to it (QUATEST 3, Hồ Chí Minh City, which
also calibrates the provincial centre's working standards every year), waits until this service's replica holds
the registry, then records for most instruments an initial verification after registration and periodic ones
at the interval in force, with a few failures (most followed by a verification after repair), some work by the
outside provider, and some instruments left overdue. `plan_history` is deterministic (seeded by each
instrument's serial); every request carries an `Idempotency-Key` derived from its data, so a second run adds
nothing. A job the replica refuses (a verifier suspended that day, a standard out of calibration, an
instrument retired) is retried with the next candidate provider, verifier or standard, or the chain stops.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from metrology.refdata.group2 import UnknownInstrumentTypeError, group2
from metrology.servicekit.http_commands import RequestRefusedError

QUANTITY = {"2.8b": "mass", "2.10": "mass", "2.19": "volume", "2.21a": "volume", "2.43b": "electrical energy"}
PROCEDURE = {
    "2.8b": "ĐLVN 14:2009",
    "2.10": "ĐLVN 13:2009",
    "2.19": "ĐLVN 10:2017",
    "2.21a": "ĐLVN 17:2017",
    "2.43b": "ĐLVN 39:2012",
    "2.34c": "ĐLVN 264:2015",
    "2.32": "ĐLVN 09:2011",
}
OUTSIDE: dict[str, Any] = {
    "body": {
        "name": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng 3 (QUATEST 3)",
        "ownership": "state",
        "province_code": "79",
        "commune_code": "26734",
        "fields": ["mass", "volume", "flow", "electricity"],
        "registration_certificate_number": "03/ĐKDV-TĐC",
        "registration_certificate_date": "2016-08-01",
        "registered_on": "2016-08-01",
    },
    "designation": {
        "decision_number": "77/QĐ-TĐC",
        "instrument_types": ["2.8b", "2.10", "2.19", "2.43b"],
        "fields": ["mass", "volume", "electricity"],
        "designated_on": "2022-01-10",
        "valid_from": "2022-01-10",
        "valid_until": "2027-01-09",
    },
    "verifiers": [
        {"card_number": "KĐV-79-031", "full_name": "Lâm Quốc Thắng", "fields": ["mass", "volume"]},
        {"card_number": "KĐV-79-047", "full_name": "Tô Thị Hồng Nhung", "fields": ["electricity", "flow"]},
    ],
    "standard": {
        "name": "Bộ quả cân chuẩn E2 và bình chuẩn hạng 1 (QUATEST 3)",
        "quantity": "mass",
        "measuring_range": "1 mg – 50 kg",
        "accuracy": "E2",
        "level": "reference",
        "national_standard": "Chuẩn quốc gia khối lượng (kilôgam) – Viện Đo lường Việt Nam",
        "certificate_number": "M01.0712.24",
        "calibrated_on": "2024-06-03",
        "due_on": "2027-06-03",
    },
}


def idempotency_key(*parts: str) -> str:
    return "demo-verification-" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]


@dataclass
class Registry:
    """What the demo reads of the registry."""

    providers: list[dict[str, Any]]
    standards: list[dict[str, Any]]
    instruments: list[dict[str, Any]]
    outside_id: str = ""


@dataclass(frozen=True)
class Candidate:
    provider_id: str
    verifier_id: str


@dataclass
class PlannedJob:
    """One job with the candidates to try in order (the first one the replica accepts records it)."""

    key: str
    body: dict[str, Any]
    candidates: list[Candidate]
    standards: list[str]
    chain: str = ""


@dataclass
class Summary:
    recorded: int = 0
    replayed: int = 0
    refused: int = 0
    failed: int = 0
    outside: int = 0
    calibrations: int = 0
    chains_stopped: int = 0
    rules: dict[str, int] = field(default_factory=dict)


def _designated(provider: dict[str, Any], type_code: str, day: date) -> bool:
    for d in provider.get("designations", []):
        until = date.fromisoformat(d["valid_until"])
        revoked = d.get("revoked_on") and date.fromisoformat(d["revoked_on"]) <= day
        if type_code in d["instrument_types"] and date.fromisoformat(d["valid_from"]) <= day <= until and not revoked:
            return True
    return False


def _candidates(
    registry: Registry, type_code: str, day: date, rng: random.Random, outside_first: bool
) -> list[Candidate]:
    local: list[Candidate] = []
    outside: list[Candidate] = []
    for provider in registry.providers:
        if not _designated(provider, type_code, day):
            continue
        fields = {f for d in provider["designations"] if type_code in d["instrument_types"] for f in d["fields"]}
        verifiers = [v for v in provider.get("verifiers", []) if fields & set(v["fields"])]
        rng.shuffle(verifiers)
        group = outside if provider["provider_id"] == registry.outside_id else local
        group += [Candidate(provider["provider_id"], v["verifier_id"]) for v in verifiers]
    rng.shuffle(local)
    return outside + local if outside_first else local + outside


def _standards_for(registry: Registry, type_code: str) -> list[str]:
    quantity = QUANTITY.get(type_code)
    ranked = sorted(registry.standards, key=lambda s: (s["quantity"] != quantity, s["level"] != "working"))
    return [s["standard_id"] for s in ranked if s["owner_id"] != registry.outside_id][:3]


def plan_history(registry: Registry, today: date, seed: int = 996) -> list[PlannedJob]:
    """Verification chains for the instruments, plus yearly calibrations of the working standards."""
    jobs = plan_standard_calibrations(registry, today)
    for instrument in sorted(registry.instruments, key=lambda i: i["serial"]):
        jobs += _chain(registry, instrument, today, random.Random(f"{seed}:{instrument['serial']}"))
    return jobs


def plan_standard_calibrations(registry: Registry, today: date) -> list[PlannedJob]:
    """The outside provider calibrates each working standard of the province ten days before it falls due."""
    jobs = []
    verifier = next(
        (p["verifiers"][0]["verifier_id"] for p in registry.providers if p["provider_id"] == registry.outside_id), ""
    )
    outside_standard = next(
        (s["standard_id"] for s in registry.standards if s["owner_id"] == registry.outside_id), None
    )
    for standard in registry.standards:
        if standard["owner_id"] == registry.outside_id or standard["level"] != "working":
            continue
        due = date.fromisoformat(standard["due_on"])
        while due - timedelta(days=10) <= today:
            performed = due - timedelta(days=10)
            body = {
                "kind": "calibration", "mode": "periodic", "subject": "standard", "subject_id": standard["standard_id"],
                "provider_id": registry.outside_id, "verifier_id": verifier, "procedure": "ĐLVN 287:2016",
                "working_standard_id": outside_standard, "performed_on": performed.isoformat(), "result": "pass",
                "valid_until": (performed + timedelta(days=365)).isoformat(),
                "measurements": [{"quantity": standard["quantity"], "nominal": 1.0, "measured": 1.00002,
                                  "unit": "kg" if standard["quantity"] == "mass" else "L",
                                  "expanded_uncertainty": 0.00004, "coverage_factor": 2.0}],
            }  # fmt: skip
            jobs.append(
                PlannedJob(idempotency_key("calibration", standard["standard_id"], body["performed_on"]), body, [], [])
            )
            due = performed + timedelta(days=365)
    return jobs


def _chain(registry: Registry, instrument: dict[str, Any], today: date, rng: random.Random) -> list[PlannedJob]:
    if rng.random() < 0.12:
        return []  # never verified: overdue since registration
    type_code = instrument["type_code"]
    day = date.fromisoformat(instrument["registered_on"]) + timedelta(days=rng.randint(0, 25))
    mode, jobs = "initial", []
    while day <= today:
        failed = mode != "after-repair" and rng.random() < 0.04
        jobs.append(_job(registry, instrument, day, mode, "fail" if failed else "pass", rng))
        try:
            next_due = group2().next_due(type_code, day)
        except UnknownInstrumentTypeError:
            return jobs
        if failed:
            if rng.random() < 0.25:
                return jobs  # left unfit
            day, mode = day + timedelta(days=rng.randint(7, 30)), "after-repair"
            continue
        if next_due is None or rng.random() < 0.08:
            return jobs  # initial verification only, or left overdue
        day, mode = next_due - timedelta(days=rng.randint(0, 20)), "periodic"
    return jobs


def _job(
    registry: Registry, instrument: dict[str, Any], day: date, mode: str, result: str, rng: random.Random
) -> PlannedJob:
    type_code = instrument["type_code"]
    body = {
        "kind": "verification", "mode": mode, "subject": "instrument", "subject_id": instrument["instrument_id"],
        "procedure": PROCEDURE.get(type_code, "ĐLVN"), "performed_on": day.isoformat(), "result": result,
    }  # fmt: skip
    if result == "fail":
        body["findings"] = "sai số vượt quá sai số lớn nhất cho phép (error beyond the maximum permissible error)"
    candidates = _candidates(registry, type_code, day, rng, outside_first=rng.random() < 0.1)
    key = idempotency_key("verification", instrument["instrument_id"], day.isoformat(), mode)
    return PlannedJob(key, body, candidates, _standards_for(registry, type_code), chain=instrument["instrument_id"])


class DemoHistoryLoader:
    def __init__(self, verification: httpx.Client, registry: httpx.Client) -> None:
        self.verification = verification
        self.registry = registry
        self.summary = Summary()
        self.outside_id = ""

    def read_registry(self) -> Registry:
        snapshot = Registry(self._all("/providers"), self._all("/standards"), self._all("/instruments"))
        snapshot.outside_id = self.outside_id = self._outside_provider()
        if snapshot.outside_id not in {p["provider_id"] for p in snapshot.providers}:
            snapshot.providers = self._all("/providers")
            snapshot.standards = self._all("/standards")
        return snapshot

    def _all(self, path: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        while True:
            page = self.registry.get(path, params={"limit": 500, "offset": len(items)})
            page.raise_for_status()
            items += page.json()["items"]
            if len(items) >= page.json()["total"] or not page.json()["items"]:
                return items

    def _post_registry(self, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        response = self.registry.post(path, json=body, headers={"Idempotency-Key": idempotency_key("registry", key)})
        if response.status_code not in (200, 201):
            raise RequestRefusedError(response)
        return dict(response.json())

    def _outside_provider(self) -> str:
        provider_id = self._post_registry("/providers", OUTSIDE["body"], "outside-provider")["id"]
        self._post_registry(f"/providers/{provider_id}/designations", OUTSIDE["designation"], "outside-designation")
        for verifier in OUTSIDE["verifiers"]:
            body = verifier | {"certified_on": "2016-09-01"}
            self._post_registry(f"/providers/{provider_id}/verifiers", body, f"outside-{verifier['card_number']}")
        self._post_registry("/standards", OUTSIDE["standard"] | {"owner_id": provider_id}, "outside-standard")
        return str(provider_id)

    def wait_for_replica(self, registry: Registry, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            counts = self.verification.get("/replica").json()
            if (
                counts["instruments"] >= len(registry.instruments)
                and counts["providers"] >= len(registry.providers)
                and counts["standards"] >= len(registry.standards)
            ):
                return
            time.sleep(1)
        raise TimeoutError("the verification replica did not catch up with the registry")

    def record(self, jobs: list[PlannedJob]) -> Summary:
        stopped: set[str] = set()
        for job in jobs:
            if job.chain in stopped:
                continue
            if not self._record_one(job):
                stopped.add(job.chain)
                self.summary.chains_stopped += 1
        return self.summary

    def _record_one(self, job: PlannedJob) -> bool:
        attempts: list[tuple[Candidate | None, str | None]] = [(c, s) for c in job.candidates for s in job.standards]
        attempts = attempts or [(None, None)]
        for candidate, standard in attempts[:12]:
            body = dict(job.body)
            if candidate is not None:
                body |= {
                    "provider_id": candidate.provider_id,
                    "verifier_id": candidate.verifier_id,
                    "working_standard_id": standard,
                }
            key = (
                job.key
                if candidate is None
                else idempotency_key(job.key, candidate.provider_id, candidate.verifier_id, str(standard))
            )
            response = self.verification.post("/jobs", json=body, headers={"Idempotency-Key": key})
            if response.status_code == 201:
                self._count(response, body)
                return True
            rule = response.json().get("rule", str(response.status_code))
            self.summary.refused += 1
            self.summary.rules[rule] = self.summary.rules.get(rule, 0) + 1
            if rule in ("instrument-not-in-use", "instrument-unknown"):
                return False
        return False

    def _count(self, response: httpx.Response, body: dict[str, Any]) -> None:
        if response.headers.get("Idempotent-Replayed") == "true":
            self.summary.replayed += 1
            return
        self.summary.recorded += 1
        self.summary.failed += body["result"] == "fail"
        self.summary.calibrations += body["kind"] == "calibration"
        self.summary.outside += body["kind"] == "verification" and body.get("provider_id") == self.outside_id


def load_demo_history(
    url: str, token: str, *, registry_url: str, seed: int = 996, today: date | None = None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    with (
        httpx.Client(base_url=url, headers=headers, timeout=60) as verification,
        httpx.Client(base_url=registry_url, headers=headers, timeout=60) as registry_client,
    ):
        loader = DemoHistoryLoader(verification, registry_client)
        registry = loader.read_registry()
        loader.wait_for_replica(registry)
        summary = loader.record(plan_history(registry, today or date.today(), seed))
    return {
        "instruments": len(registry.instruments),
        "recorded": summary.recorded,
        "replayed": summary.replayed,
        "failures": summary.failed,
        "by_outside_provider": summary.outside,
        "standard_calibrations": summary.calibrations,
        "refused_then_retried": summary.refused,
        "chains_stopped": summary.chains_stopped,
        "rules": summary.rules,
    }
