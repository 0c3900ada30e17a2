"""Vietnam's administrative units before and after the 2025 reorganisation, dated like the Group 2 list.

Resolution 202/2025/QH15 merged the 63 provinces into 34 from 2025-07-01 and ended the district level (communes
sit directly under the province). Each row of `data/provinces.csv` applies from `valid_from` until `valid_until`
(open when empty): a province that ceased on 2025-06-30 names the one that `replaced_by` it; a merged province
lists the codes it `replaces` (its own former code among them). A merged province keeps the code of the former
province that holds its seat.

What is shipped, and how sure it is (version `ADMINISTRATIVE_UNITS_VERSION`):
- provinces: complete, 63 before 2025-07-01 and 34 from then on. Rows marked `certain=no` carry a merged
  province's code inferred from the seat rule (Lào Cai 15, Bắc Ninh 24, Quảng Trị 44, Gia Lai 52, Tây Ninh 80,
  Đồng Tháp 82, An Giang 91), not read from Decision 19/2025/QĐ-TTg (the list of codes), which was not at hand
  when the file was made: check them before relying on them.
- communes: NOT the national list, which was not available offline. `data/communes.csv` holds only the
  communes the shipped plans name (the former Bến Tre city, until 2025-06-30), with names still to be filled.
  A commune code the file does not list is accepted as it is; a listed one must be in force on the date and
  in the province given. The list of communes of the merged Vĩnh Long province (from 2025-07-01) is not shipped.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources

ADMINISTRATIVE_UNITS_VERSION = "2025-07-01.1"
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
        on = day
        if self.province_on(province_code, day) is None:
            known = [p for p in self.provinces if p.code == province_code]
            if not known:
                raise AddressError(f"no province has code '{province_code}'", "province_code")
            last = max(known, key=_until)
            if not former_codes_accepted or last.valid_until is None or last.valid_until > day:
                raise AddressError(_ceased(last, day, self), "province_code")
            on = last.valid_until
        if commune_code is None:
            return
        listed = [c for c in self.communes if c.code == commune_code]
        if not listed:
            return  # the commune list of this province is not shipped (see the module's docstring)
        current = next((c for c in listed if c.in_force_on(on)), None)
        if current is None and former_codes_accepted and day >= MERGER_DAY:
            current = next((c for c in listed if c.in_force_on(MERGER_DAY - timedelta(days=1))), None)
        if current is None:
            raise AddressError(f"commune '{commune_code}' is not in force on {day.isoformat()}", "commune_code")
        if current.province_code not in (province_code, *self.former_codes(province_code)):
            raise AddressError(
                f"commune '{commune_code}' is in province '{current.province_code}', not '{province_code}'",
                "commune_code",
            )


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
    )
