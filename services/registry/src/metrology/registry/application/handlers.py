"""Command handlers: replay the aggregate, let the domain decide, append its events, update the query tables."""

from __future__ import annotations

from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, NotFoundError
from metrology.eventkit.events import DomainEvent
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.refdata.admin_units import administrative_units
from metrology.refdata.group2 import group2
from metrology.registry.adapters.views import (
    accreditations,
    assessments,
    designations,
    enterprises,
    instruments,
    laboratories,
    providers,
    standards,
    verifiers,
)
from metrology.registry.domain import events as ev
from metrology.registry.domain.address import check_address
from metrology.registry.domain.enterprise import Enterprise
from metrology.registry.domain.instrument import Instrument
from metrology.registry.domain.laboratory import Laboratory
from metrology.registry.domain.provider import Provider
from metrology.registry.domain.standard import HigherStandard, Standard

A = TypeVar("A", bound=Aggregate)


async def load(uow: UnitOfWork, kind: type[A], stream: str) -> A:
    return kind.replay(await uow.history(stream))


async def save(uow: UnitOfWork, stream: str, aggregate: Aggregate) -> None:
    await uow.append(stream, aggregate.version, aggregate.pending)


# --- enterprises ---------------------------------------------------------------------------------------------


async def register_enterprise(uow: UnitOfWork, event: ev.EnterpriseRegistered) -> Enterprise:
    tenant = uow.context.tenant
    _check_address(uow, event.province_code, event.commune_code, event)
    await _refuse_known_tax_code(uow, tenant, event.tax_code)
    enterprise = await load(uow, Enterprise, f"enterprise-{event.enterprise_id}")
    enterprise.register(event)
    await save(uow, f"enterprise-{event.enterprise_id}", enterprise)
    row = event.model_dump(exclude={"occurred_on"})
    try:
        async with uow.session.begin_nested():
            await uow.session.execute(
                sa.insert(enterprises).values(
                    **row, tenant=tenant, status="active", registered_on=event.occurred_on, closed_on=None
                )
            )
    except IntegrityError:
        raise _tax_code_taken(event.tax_code) from None
    return enterprise


async def _refuse_known_tax_code(uow: UnitOfWork, tenant: str, tax_code: str) -> None:
    query = sa.select(enterprises.c.enterprise_id).where(
        enterprises.c.tenant == tenant, enterprises.c.tax_code == tax_code
    )
    if (await uow.session.execute(query)).first() is not None:
        raise _tax_code_taken(tax_code)


def _tax_code_taken(tax_code: str) -> ConflictError:
    return ConflictError(f"tax code {tax_code} is already registered", field="tax_code", rule="tax-code-registered")


async def update_enterprise(uow: UnitOfWork, event: ev.EnterpriseUpdated) -> Enterprise:
    enterprise = await _existing(uow, Enterprise, "enterprise", event.enterprise_id)
    if event.province_code is not None or event.commune_code is not None:
        province = event.province_code or await _province_of_enterprise(uow, event.enterprise_id)
        _check_address(uow, province, event.commune_code, event)
    enterprise.update(event)
    await save(uow, f"enterprise-{event.enterprise_id}", enterprise)
    changes = event.model_dump(exclude={"occurred_on", "enterprise_id"}, exclude_none=True)
    await uow.session.execute(
        sa.update(enterprises).where(enterprises.c.enterprise_id == event.enterprise_id).values(**changes)
    )
    return enterprise


async def _province_of_enterprise(uow: UnitOfWork, enterprise_id: str) -> str:
    query = sa.select(enterprises.c.province_code).where(enterprises.c.enterprise_id == enterprise_id)
    return str((await uow.session.execute(query)).scalar_one())


def _check_address(uow: UnitOfWork, province_code: str, commune_code: str | None, event: DomainEvent) -> None:
    """The codes name administrative units in force on the fact's date (422 naming the field otherwise)."""
    check_address(administrative_units(), uow.context.tenant, province_code, commune_code, event.occurred_on)


async def close_enterprise(uow: UnitOfWork, event: ev.EnterpriseClosed) -> Enterprise:
    enterprise = await _existing(uow, Enterprise, "enterprise", event.enterprise_id)
    enterprise.close(event)
    await save(uow, f"enterprise-{event.enterprise_id}", enterprise)
    await uow.session.execute(
        sa.update(enterprises)
        .where(enterprises.c.enterprise_id == event.enterprise_id)
        .values(status="closed", closed_on=event.occurred_on)
    )
    return enterprise


# --- providers, designations, verifiers ---------------------------------------------------------------------


async def register_provider(uow: UnitOfWork, event: ev.ProviderRegistered) -> Provider:
    number = event.registration_certificate_number
    _check_address(uow, event.province_code, event.commune_code, event)
    taken = _registration_taken("provider", number, "registration_certificate_number")
    await _refuse_known(uow, providers, "registration_certificate_number", number, taken)
    provider = await load(uow, Provider, f"provider-{event.provider_id}")
    provider.register(event)
    await save(uow, f"provider-{event.provider_id}", provider)
    row = event.model_dump(exclude={"occurred_on"}) | {"tenant": uow.context.tenant}
    await _insert_unique(uow, sa.insert(providers).values(**row), taken)
    return provider


async def _refuse_known(uow: UnitOfWork, table: sa.Table, key: str, value: str | None, taken: ConflictError) -> None:
    """A natural key already held in this tenant is refused before anything is written (the unique index,
    checked again on insert, decides between two commands that race)."""
    if value is None:
        return
    query = sa.select(table.c[key]).where(table.c.tenant == uow.context.tenant, table.c[key] == value)
    if (await uow.session.execute(query)).first() is not None:
        raise taken


async def _insert_unique(uow: UnitOfWork, insert: sa.Insert, taken: ConflictError) -> None:
    try:
        async with uow.session.begin_nested():
            await uow.session.execute(insert)
    except IntegrityError:
        raise taken from None


def _registration_taken(what: str, number: str | None, field: str) -> ConflictError:
    return ConflictError(
        f"a {what} with registration number {number} is already registered",
        field=field,
        rule=f"{what}-registration-number-registered",
    )


async def designate_provider(uow: UnitOfWork, event: ev.ProviderDesignated) -> Provider:
    provider = await load(uow, Provider, f"provider-{event.provider_id}")
    provider.designate(event, group2())
    await save(uow, f"provider-{event.provider_id}", provider)
    await uow.session.execute(
        sa.insert(designations).values(**event.model_dump(exclude={"occurred_on"}), designated_on=event.occurred_on)
    )
    return provider


async def renew_designation(uow: UnitOfWork, event: ev.DesignationRenewed) -> Provider:
    provider = await load(uow, Provider, f"provider-{event.provider_id}")
    provider.renew(event)
    await save(uow, f"provider-{event.provider_id}", provider)
    changes: dict[str, object] = {"valid_until": event.valid_until}
    if event.decision_number:
        changes["decision_number"] = event.decision_number
    await _update_designation(uow, event.designation_id, changes)
    return provider


async def revoke_designation(uow: UnitOfWork, event: ev.DesignationRevoked) -> Provider:
    provider = await load(uow, Provider, f"provider-{event.provider_id}")
    provider.revoke(event)
    await save(uow, f"provider-{event.provider_id}", provider)
    await _update_designation(
        uow, event.designation_id, {"revoked_on": event.occurred_on, "revocation_reason": event.reason}
    )
    return provider


async def _update_designation(uow: UnitOfWork, designation_id: str, changes: dict[str, object]) -> None:
    await uow.session.execute(
        sa.update(designations).where(designations.c.designation_id == designation_id).values(**changes)
    )


async def certify_verifier(uow: UnitOfWork, event: ev.VerifierCertified) -> Provider:
    provider = await load(uow, Provider, f"provider-{event.provider_id}")
    provider.certify(event)
    await save(uow, f"provider-{event.provider_id}", provider)
    await uow.session.execute(
        sa.insert(verifiers).values(
            **event.model_dump(exclude={"occurred_on"}), certified_on=event.occurred_on, status="active"
        )
    )
    return provider


async def suspend_verifier(uow: UnitOfWork, event: ev.VerifierSuspended) -> Provider:
    provider = await load(uow, Provider, f"provider-{event.provider_id}")
    provider.suspend(event)
    await save(uow, f"provider-{event.provider_id}", provider)
    await _set_verifier_status(uow, event.verifier_id, "suspended")
    return provider


async def reinstate_verifier(uow: UnitOfWork, event: ev.VerifierReinstated) -> Provider:
    provider = await load(uow, Provider, f"provider-{event.provider_id}")
    provider.reinstate(event)
    await save(uow, f"provider-{event.provider_id}", provider)
    await _set_verifier_status(uow, event.verifier_id, "active")
    return provider


async def _set_verifier_status(uow: UnitOfWork, verifier_id: str, status: str) -> None:
    await uow.session.execute(sa.update(verifiers).where(verifiers.c.verifier_id == verifier_id).values(status=status))


# --- laboratories ---------------------------------------------------------------------------------------------


async def register_laboratory(uow: UnitOfWork, event: ev.LaboratoryRegistered) -> Laboratory:
    _check_address(uow, event.province_code, event.commune_code, event)
    taken = _registration_taken("laboratory", event.registration_number, "registration_number")
    await _refuse_known(uow, laboratories, "registration_number", event.registration_number, taken)
    laboratory = await load(uow, Laboratory, f"laboratory-{event.laboratory_id}")
    laboratory.register(event)
    await save(uow, f"laboratory-{event.laboratory_id}", laboratory)
    row = event.model_dump(exclude={"occurred_on"}) | {"tenant": uow.context.tenant, "registered_on": event.occurred_on}
    await _insert_unique(uow, sa.insert(laboratories).values(**row), taken)
    return laboratory


async def accredit_laboratory(uow: UnitOfWork, event: ev.LaboratoryAccredited) -> Laboratory:
    laboratory = await load(uow, Laboratory, f"laboratory-{event.laboratory_id}")
    laboratory.accredit(event)
    await save(uow, f"laboratory-{event.laboratory_id}", laboratory)
    await uow.session.execute(sa.insert(accreditations).values(**event.model_dump(exclude={"occurred_on"})))
    return laboratory


async def assess_laboratory(uow: UnitOfWork, event: ev.LaboratoryAssessed) -> Laboratory:
    laboratory = await load(uow, Laboratory, f"laboratory-{event.laboratory_id}")
    laboratory.assess(event)
    await save(uow, f"laboratory-{event.laboratory_id}", laboratory)
    await uow.session.execute(
        sa.insert(assessments).values(**event.model_dump(exclude={"occurred_on"}), assessed_on=event.occurred_on)
    )
    return laboratory


# --- standards ------------------------------------------------------------------------------------------------


async def register_standard(uow: UnitOfWork, event: ev.StandardRegistered) -> Standard:
    standard = await load(uow, Standard, f"standard-{event.standard_id}")
    standard.register(event, await _higher_standard(uow, event.calibrated_against))
    await save(uow, f"standard-{event.standard_id}", standard)
    await uow.session.execute(
        sa.insert(standards).values(**event.model_dump(exclude={"occurred_on"}), tenant=uow.context.tenant)
    )
    return standard


async def _higher_standard(uow: UnitOfWork, standard_id: str | None) -> HigherStandard | None:
    if standard_id is None:
        return None
    query = sa.select(standards.c.standard_id, standards.c.quantity, standards.c.level).where(
        standards.c.standard_id == standard_id, standards.c.tenant == uow.context.tenant
    )
    row = (await uow.session.execute(query)).first()
    return HigherStandard(row.standard_id, row.quantity, row.level) if row else None


# --- instruments ----------------------------------------------------------------------------------------------


async def register_instrument(uow: UnitOfWork, event: ev.InstrumentRegistered) -> Instrument:
    _check_address(uow, event.province_code, event.commune_code, event)
    owner = await load(uow, Enterprise, f"enterprise-{event.owner_enterprise_id}")
    instrument = await load(uow, Instrument, f"instrument-{event.instrument_id}")
    instrument.register(event, owner, group2())
    await save(uow, f"instrument-{event.instrument_id}", instrument)
    try:
        async with uow.session.begin_nested():
            await uow.session.execute(
                sa.insert(instruments).values(
                    **event.model_dump(exclude={"occurred_on"}),
                    tenant=uow.context.tenant,
                    registered_on=event.occurred_on,
                )
            )
    except IntegrityError:
        raise ConflictError(
            f"instrument {event.type_code} {event.manufacturer} serial {event.serial} is already registered",
            field="serial",
            rule="instrument-registered",
        ) from None
    return instrument


async def change_instrument_status(uow: UnitOfWork, event: ev.InstrumentStatusChanged) -> Instrument:
    instrument = await _existing(uow, Instrument, "instrument", event.instrument_id)
    instrument.change_status(event)
    await save(uow, f"instrument-{event.instrument_id}", instrument)
    await uow.session.execute(
        sa.update(instruments).where(instruments.c.instrument_id == event.instrument_id).values(status=event.status)
    )
    return instrument


async def _existing(uow: UnitOfWork, kind: type[A], name: str, aggregate_id: str) -> A:
    aggregate = await load(uow, kind, f"{name}-{aggregate_id}")
    if not aggregate.exists:
        raise NotFoundError(f"no {name} {aggregate_id}", field=f"{name}_id", rule=f"{name}-unknown")
    return aggregate
