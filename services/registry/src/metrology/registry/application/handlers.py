"""Command handlers: replay the aggregate, let the domain decide, append its events, update the query tables."""

from __future__ import annotations

from typing import Any, TypeVar

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
from metrology.servicekit.personal_data import ERASED, DataKey, PersonalDataVault

A = TypeVar("A", bound=Aggregate)
ContactEvent = TypeVar("ContactEvent", ev.EnterpriseRegistered, ev.EnterpriseUpdated)
CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email")


async def load(uow: UnitOfWork, kind: type[A], stream: str) -> A:
    return kind.replay(await uow.history(stream))


async def save(uow: UnitOfWork, stream: str, aggregate: Aggregate) -> None:
    await uow.append(stream, aggregate.version, aggregate.pending)


# --- enterprises ---------------------------------------------------------------------------------------------


def contact_subject(enterprise_id: str) -> str:
    """Whose data key seals an enterprise's contact person (one person per enterprise at a time)."""
    return f"enterprise-contact-{enterprise_id}"


def verifier_subject(verifier_id: str) -> str:
    return f"verifier-{verifier_id}"


async def _sealed_contact(
    uow: UnitOfWork, vault: PersonalDataVault, event: ContactEvent
) -> tuple[ContactEvent, DataKey | None]:
    """The event with its contact details sealed under the contact person's key (the clear fields emptied)."""
    plain = {name: getattr(event, name) for name in CONTACT_FIELDS if getattr(event, name) is not None}
    if not plain:
        return event, None
    key = await vault.key(uow.session, contact_subject(event.enterprise_id))
    return event.model_copy(update=dict.fromkeys(CONTACT_FIELDS) | {"contact": vault.seal(key, plain)}), key


async def _keep(uow: UnitOfWork, vault: PersonalDataVault, key: DataKey | None) -> None:
    if key is not None:
        await vault.keep(uow.session, key)


async def register_enterprise(uow: UnitOfWork, given: ev.EnterpriseRegistered, vault: PersonalDataVault) -> Enterprise:
    """`given` names the contact in clear; the event appended carries it sealed, the query table in clear."""
    tenant = uow.context.tenant
    _check_address(uow, given.province_code, given.commune_code, given)
    await _refuse_known_tax_code(uow, tenant, given.tax_code)
    enterprise = await load(uow, Enterprise, f"enterprise-{given.enterprise_id}")
    event, key = await _sealed_contact(uow, vault, given)
    enterprise.register(event)
    await save(uow, f"enterprise-{event.enterprise_id}", enterprise)
    await _keep(uow, vault, key)
    row = given.model_dump(exclude={"occurred_on", "contact"})
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


async def update_enterprise(uow: UnitOfWork, given: ev.EnterpriseUpdated, vault: PersonalDataVault) -> Enterprise:
    enterprise = await _existing(uow, Enterprise, "enterprise", given.enterprise_id)
    if given.province_code is not None or given.commune_code is not None:
        province = given.province_code or await _province_of_enterprise(uow, given.enterprise_id)
        _check_address(uow, province, given.commune_code, given)
    event, key = await _sealed_contact(uow, vault, given)
    enterprise.update(event)
    await save(uow, f"enterprise-{event.enterprise_id}", enterprise)
    await _keep(uow, vault, key)
    changes = given.model_dump(exclude={"occurred_on", "enterprise_id", "contact"}, exclude_none=True)
    await uow.session.execute(
        sa.update(enterprises).where(enterprises.c.enterprise_id == event.enterprise_id).values(**changes)
    )
    return enterprise


async def erase_enterprise_contact(
    uow: UnitOfWork, event: ev.EnterpriseContactErased, vault: PersonalDataVault
) -> Enterprise:
    """The contact person's key is destroyed and the query table shows "erased" where a detail was held."""
    enterprise = await _existing(uow, Enterprise, "enterprise", event.enterprise_id)
    enterprise.erase_contact(event)
    await save(uow, f"enterprise-{event.enterprise_id}", enterprise)
    await vault.erase(uow.session, contact_subject(event.enterprise_id))
    erased: dict[str, Any] = {name: _erased_if_held(enterprises.c[name]) for name in CONTACT_FIELDS}
    await uow.session.execute(
        sa.update(enterprises).where(enterprises.c.enterprise_id == event.enterprise_id).values(**erased)
    )
    return enterprise


def _erased_if_held(column: sa.Column) -> sa.Case:
    return sa.case((column.is_(None), None), else_=sa.literal(ERASED))


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


async def certify_verifier(
    uow: UnitOfWork, given: ev.VerifierCertified, full_name: str, vault: PersonalDataVault
) -> Provider:
    """The verifier's name travels sealed under their own key; the query table holds it until erasure."""
    provider = await load(uow, Provider, f"provider-{given.provider_id}")
    key = await vault.key(uow.session, verifier_subject(given.verifier_id))
    event = given.model_copy(update={"personal": vault.seal(key, {"full_name": full_name})})
    provider.certify(event)
    await save(uow, f"provider-{event.provider_id}", provider)
    await vault.keep(uow.session, key)
    row = event.model_dump(exclude={"occurred_on", "personal"}) | {"full_name": full_name}
    await uow.session.execute(sa.insert(verifiers).values(**row, certified_on=event.occurred_on, status="active"))
    return provider


async def erase_verifier_personal_data(
    uow: UnitOfWork, event: ev.VerifierPersonalDataErased, vault: PersonalDataVault
) -> Provider:
    provider = await load(uow, Provider, f"provider-{event.provider_id}")
    provider.erase_personal_data(event)
    await save(uow, f"provider-{event.provider_id}", provider)
    await vault.erase(uow.session, verifier_subject(event.verifier_id))
    await uow.session.execute(
        sa.update(verifiers).where(verifiers.c.verifier_id == event.verifier_id).values(full_name=ERASED)
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
