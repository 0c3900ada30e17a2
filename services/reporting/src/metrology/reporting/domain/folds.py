"""KPI rules over plain facts (no I/O): which providers, laboratories and instruments count on a date.

The read model stores facts as they happened; these functions decide, for a date D, what counts. The counts
that are plain "how many facts on or before D" (person-times, enterprise-times) are run as SQL over the same
facts (see application/kpis.py), following the rules written in docs/kpis.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class Provider:
    provider_id: str
    name: str
    ownership: str
    province_code: str


@dataclass(frozen=True, slots=True)
class Designation:
    designation_id: str
    provider_id: str
    instrument_types: tuple[str, ...]
    valid_from: date
    valid_until: date
    renewals: tuple[tuple[date, date], ...] = ()  # (renewed on, now valid until)
    revoked_on: date | None = None

    def valid_on(self, day: date) -> bool:
        """Valid from/until inclusive (with renewals known on `day`), and not revoked on or before `day`."""
        if self.revoked_on is not None and self.revoked_on <= day:
            return False
        until = max([self.valid_until, *(until for renewed, until in self.renewals if renewed <= day)])
        return self.valid_from <= day <= until


def socialised_providers(
    providers: Iterable[Provider], designations: Iterable[Designation], day: date, provinces: Sequence[str] = ()
) -> list[Provider]:
    """T2: non-state providers (in the region) holding a designation valid on `day`."""
    designated = {d.provider_id for d in designations if d.valid_on(day)}
    return [
        p
        for p in providers
        if p.ownership == "socialised"
        and p.provider_id in designated
        and (not provinces or p.province_code in provinces)
    ]


def designated_types(
    designations: Iterable[Designation], providers: Iterable[Provider], provinces: Sequence[str]
) -> dict[str, list[Designation]]:
    """Designations of the providers located in `provinces`, by the instrument type they cover."""
    local = {p.provider_id for p in providers if not provinces or p.province_code in provinces}
    by_type: dict[str, list[Designation]] = {}
    for designation in designations:
        if designation.provider_id in local:
            for code in designation.instrument_types:
                by_type.setdefault(code, []).append(designation)
    return by_type


def type_designated_on(by_type: dict[str, list[Designation]], type_code: str, day: date) -> bool:
    return any(d.valid_on(day) for d in by_type.get(type_code, ()))


@dataclass(frozen=True, slots=True)
class Laboratory:
    laboratory_id: str
    name: str
    commune_code: str | None
    accreditations: tuple[tuple[date, date, date], ...] = ()  # (recorded as of, valid from, valid until)
    assessments: tuple[tuple[date, str, bool], ...] = field(default=())  # (assessed on, criteria, passed)

    def qualifies_on(self, day: date, criteria: str | None) -> bool:
        """A passed assessment (against `criteria`) on or before `day`, inside an accreditation window."""
        windows = [(start, end) for known, start, end in self.accreditations if known <= day]
        return any(
            passed
            and assessed <= day
            and (criteria is None or name == criteria)
            and any(start <= assessed <= end for start, end in windows)
            for assessed, name, passed in self.assessments
        )


def accredited_labs(
    labs: Iterable[Laboratory], day: date, communes: Sequence[str] = (), criteria: str | None = None
) -> list[Laboratory]:
    """T5: laboratories located in the named communes assessed against the criteria within accreditation."""
    return [lab for lab in labs if (not communes or lab.commune_code in communes) and lab.qualifies_on(day, criteria)]
