"""A service to an enterprise (calibration, testing, a measurement method, a consultation): the rules it must meet.

Unlike a job, it names no registered instrument or standard: only an enterprise the registry knows, open on the
date of the work, and a provider of the province.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from metrology.eventkit.errors import RuleViolationError
from metrology.verification.domain.events import EnterpriseServiceRecorded, ServiceKind


@dataclass(frozen=True, slots=True)
class EnterpriseService:
    """One service as the provider describes it (the command's content)."""

    kind: ServiceKind
    enterprise_id: str
    provider_id: str
    performed_on: date
    description: str
    external_reference: str | None = None


@dataclass(frozen=True, slots=True)
class ServedEnterprise:
    """The enterprise as the registry replica holds it."""

    enterprise_id: str
    name: str
    province_code: str
    commune_code: str
    closed_on: date | None = None


def record_service(
    service_id: str,
    service: EnterpriseService,
    enterprise: ServedEnterprise | None,
    provider_province_code: str,
    today: date,
) -> EnterpriseServiceRecorded:
    """The event for a service the rules allow; a `RuleViolationError` names the rule otherwise."""
    if service.performed_on > today:
        raise RuleViolationError(
            f"a service cannot be dated in the future ({service.performed_on.isoformat()})",
            field="performed_on",
            rule="performed-in-future",
        )
    if enterprise is None:
        raise RuleViolationError(
            f"no enterprise {service.enterprise_id} in the registry", field="enterprise_id", rule="enterprise-unknown"
        )
    if enterprise.closed_on is not None and enterprise.closed_on <= service.performed_on:
        raise RuleViolationError(
            f"enterprise {service.enterprise_id} closed on {enterprise.closed_on.isoformat()}",
            field="enterprise_id",
            rule="enterprise-closed",
        )
    return EnterpriseServiceRecorded(
        occurred_on=service.performed_on,
        service_id=service_id,
        kind=service.kind,
        enterprise_id=enterprise.enterprise_id,
        enterprise_province_code=enterprise.province_code,
        enterprise_commune_code=enterprise.commune_code,
        provider_id=service.provider_id,
        provider_province_code=provider_province_code,
        description=service.description,
        external_reference=service.external_reference,
    )
