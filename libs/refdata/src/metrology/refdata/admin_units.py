"""Vietnam's administrative units before and after the 2025 reorganisation, dated like the Group 2 list.

Resolution 202/2025/QH15 merged the 63 provinces into 34 from 2025-07-01 and ended the district level (communes
sit directly under the province). Each row of `data/provinces.csv` applies from `valid_from` until `valid_until`
(open when empty): a province that ceased on 2025-06-30 names the one that `replaced_by` it; a merged province
lists the codes it `replaces` (its own former code among them). A merged province keeps the code of the former
province that holds its seat.

What is shipped, and how sure it is (version `ADMINISTRATIVE_UNITS_VERSION`):
- provinces: complete, 63 before 2025-07-01 and 34 from then on, with the codes of the list of administrative
  units and codes published with the draft decision on that list (chinhphu.vn, 2025; Decision 19/2025/QĐ-TTg),
  as mirrored by the VietnamProvinces project (codes of the national statistics office).
- communes: NOT the national list. `data/communes.csv` holds the communes of the merged Vĩnh Long province from
  2025-07-01 (124, complete: an unlisted code there is refused) and the communes of former Vĩnh Long, Bến Tre
  and Trà Vinh as they stood on 2025-06-30, each naming the commune(s) that replaced it (from the same
  source's conversion table). Earlier changes of those communes are not recorded, so before 2025-07-01 an
  unlisted code is accepted; so is any commune of a province whose list is not shipped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources

ADMINISTRATIVE_UNITS_VERSION = "2025-07-01.2"  # .2: checked codes; the merged Vĩnh Long communes
MERGER_DAY = date(2025, 7, 1)


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    name_vi: str
    valid_from: date | None
    valid_until: date | None
    certain: bool
    note: str

    def in_force_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True, slots=True)
class Province(Unit):
    name_en: str
    replaces: tuple[str, ...]
    replaced_by: str | None


@dataclass(frozen=True, slots=True)
class Commune(Unit):
    province_code: str
    replaces: tuple[str, ...]
    replaced_by: tuple[str, ...]


class AddressError(ValueError):
    """An administrative code not valid on the date; `field` names the input at fault."""

    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field


class AdministrativeUnits:
    def __init__(self, provinces: list[Province], communes: list[Commune]) -> None:
        self.provinces = provinces
        self.communes = communes

    def province_on(self, code: str, day: date) -> Province | None:
        return next((p for p in self.provinces if p.code == code and p.in_force_on(day)), None)

    def province_codes(self, day: date) -> list[str]:
        return sorted(p.code for p in self.provinces if p.in_force_on(day))

    def successor(self, code: str, day: date | None = None) -> str:
        """The code of the province that holds `code`'s territory on `day` (default: today's units)."""
        day = day or date.max
        seen = code
        for _ in range(len(self.provinces)):
            if self.province_on(seen, day) is not None:
                return seen
            row = max((p for p in self.provinces if p.code == seen), key=_until, default=None)
            if row is None or row.replaced_by is None:
                return seen
            seen = row.replaced_by
        return seen

    def former_codes(self, code: str) -> tuple[str, ...]:
        """The province codes a merged province replaces (itself alone when it was not merged)."""
        merged = next((p for p in self.provinces if p.code == code and p.replaces), None)
        return merged.replaces if merged else (code,)

    def check_address(
        self, province_code: str, commune_code: str | None, day: date, *, former_codes_accepted: bool = False
    ) -> None:
        """Raise AddressError unless the codes name units in force on `day` (with `former_codes_accepted`, a
        province or commune that ceased in the reorganisation is still accepted as it stood the day before)."""
        if self.province_on(province_code, day) is None:
            known = [p for p in self.provinces if p.code == province_code]
            if not known:
                raise AddressError(f"no province has code '{province_code}'", "province_code")
            last = max(known, key=_until)
            if not former_codes_accepted or last.valid_until is None or last.valid_until > day:
                raise AddressError(_ceased(last, day, self), "province_code")
        if commune_code is not None:
            self._check_commune(province_code, commune_code, day, former_codes_accepted)

    def communes_complete(self, province_code: str, day: date) -> bool:
        """Whether the shipped list holds every commune of the province on `day` (the merged provinces' lists from
        2025-07-01; the former provinces' rows are their state on 2025-06-30, earlier changes not recorded)."""
        return any(
            c.province_code == province_code and c.valid_from is not None and c.in_force_on(day) for c in self.communes
        )

    def _check_commune(self, province_code: str, commune_code: str, day: date, former_codes_accepted: bool) -> None:
        listed = [c for c in self.communes if c.code == commune_code]
        now = self.successor(province_code, day)
        wanted = {province_code, now}
        days = [day]
        if former_codes_accepted and day >= MERGER_DAY:
            wanted.update(self.former_codes(now))
            days.append(MERGER_DAY - timedelta(days=1))  # the former communes, as they stood
        if any(c.in_force_on(d) and c.province_code in wanted for c in listed for d in days):
            return
        in_force = next((c for c in listed if c.in_force_on(day)), None)
        if in_force is not None:
            raise AddressError(
                f"commune '{commune_code}' is in province '{in_force.province_code}', not '{province_code}'",
                "commune_code",
            )
        if listed:
            last = max(listed, key=_until)
            ceased = f": it ceased on {last.valid_until.isoformat()}" if last.valid_until else ""
            raise AddressError(f"commune '{commune_code}' is not in force on {day.isoformat()}{ceased}", "commune_code")
        if self.communes_complete(now, day):
            raise AddressError(f"province '{now}' has no commune '{commune_code}' on {day.isoformat()}", "commune_code")


def _until(unit: Unit) -> date:
    return unit.valid_until or date.max


def _ceased(last: Province, day: date, units: AdministrativeUnits) -> str:
    if last.valid_until is not None and last.valid_until < day:
        now = units.successor(last.code, day)
        return (
            f"province '{last.code}' ({last.name_vi}) ceased on {last.valid_until.isoformat()}: "
            f"on {day.isoformat()} its territory is province '{now}'"
        )
    return f"province '{last.code}' is not in force on {day.isoformat()}"


@cache
def administrative_units() -> AdministrativeUnits:
    """The shipped lists (loaded once, on first use)."""
    data = resources.files("metrology.refdata").joinpath("data")
    provinces = [_province(r) for r in csv.DictReader(data.joinpath("provinces.csv").read_text("utf-8").splitlines())]
    communes = [_commune(r) for r in csv.DictReader(data.joinpath("communes.csv").read_text("utf-8").splitlines())]
    return AdministrativeUnits(provinces, communes)


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _province(raw: dict[str, str]) -> Province:
    return Province(
        code=raw["code"],
        name_vi=raw["name_vi"],
        valid_from=_day(raw["valid_from"]),
        valid_until=_day(raw["valid_until"]),
        certain=raw["certain"] == "yes",
        note=raw["note"],
        name_en=raw["name_en"],
        replaces=tuple(raw["replaces"].split()),
        replaced_by=raw["replaced_by"] or None,
    )


def _commune(raw: dict[str, str]) -> Commune:
    return Commune(
        code=raw["code"],
        name_vi=raw["name_vi"],
        valid_from=_day(raw["valid_from"]),
        valid_until=_day(raw["valid_until"]),
        certain=raw["certain"] == "yes",
        note=raw["note"],
        province_code=raw["province_code"],
        replaces=tuple(raw["replaces"].split()),
        replaced_by=tuple(raw["replaced_by"].split()),
    )
