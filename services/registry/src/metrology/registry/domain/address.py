"""Addresses carry the administrative codes in force on the fact's date (refdata's dated lists).

The platform's tenants are the provinces as they were before 2025-07-01, so during the transition an address
within the tenant's own territory may still name the former units (Bến Tre's 83 and its communes, for a tenant
83 now part of Vĩnh Long 86); an address anywhere else must use the units in force on its date. A code no
province ever had, a province that had ceased on the date, or a listed commune outside the province given is
refused, naming the field.
"""

from __future__ import annotations

from datetime import date

from metrology.eventkit.errors import RuleViolationError
from metrology.refdata.admin_units import AddressError, AdministrativeUnits


def check_address(
    units: AdministrativeUnits, tenant: str, province_code: str, commune_code: str | None, on: date
) -> None:
    own_territory = units.successor(province_code, on) == units.successor(tenant, on)
    try:
        units.check_address(province_code, commune_code, on, former_codes_accepted=own_territory)
    except AddressError as error:
        raise RuleViolationError(error.detail, field=error.field, rule="administrative-code") from None
