from datetime import date

import pytest

from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.refdata.group2 import group2
from metrology.registry.domain import events as ev
from metrology.registry.domain.enterprise import Enterprise
from metrology.registry.domain.instrument import Instrument


def enterprise(closed: bool = False) -> Enterprise:
    owner = Enterprise()
    owner.register(
        ev.EnterpriseRegistered(
            occurred_on=date(2024, 1, 1),
            enterprise_id="e1",
            tax_code="0300588569",
            name="Công ty",
            sector="fuel-retail",
            address="Bến Tre",
            province_code="83",
            commune_code="28756",
        )
    )
    if closed:
        owner.close(ev.EnterpriseClosed(occurred_on=date(2024, 6, 1), enterprise_id="e1"))
    return owner


def registration(**overrides: object) -> ev.InstrumentRegistered:
    data = {
        "occurred_on": date(2024, 7, 1),
        "instrument_id": "i1",
        "type_code": "2.19",
        "serial": "S1",
        "manufacturer": "Tatsuno",
        "type_approval_number": "PDM 1",
        "owner_enterprise_id": "e1",
        "province_code": "83",
        "commune_code": "28756",
    }
    return ev.InstrumentRegistered.model_validate(data | overrides)


def refused(event: ev.InstrumentRegistered, owner: Enterprise) -> RuleViolationError:
    with pytest.raises(RuleViolationError) as caught:
        Instrument().register(event, owner, group2())
    return caught.value


def test_a_type_that_requires_type_approval_needs_its_number():
    assert refused(registration(type_approval_number=None), enterprise()).rule == "type-approval-required"


def test_a_type_without_type_approval_registers_without_a_number():
    instrument = Instrument()
    instrument.register(registration(type_code="2.32", type_approval_number=None), enterprise(), group2())
    assert instrument.status == "in-use"


def test_the_type_must_be_in_force_on_the_registration_date():
    assert refused(registration(type_code="9.99"), enterprise()).field == "type_code"
    assert refused(registration(occurred_on=date(2018, 12, 31)), enterprise()).rule == "group2-type-unknown"


def test_the_owner_must_be_registered_and_open():
    assert refused(registration(), Enterprise()).rule == "owner-unknown"
    assert refused(registration(), enterprise(closed=True)).rule == "owner-closed"


def test_a_retired_instrument_stays_retired():
    instrument = Instrument()
    instrument.register(registration(), enterprise(), group2())
    instrument.change_status(
        ev.InstrumentStatusChanged(occurred_on=date(2025, 1, 1), instrument_id="i1", status="retired")
    )
    with pytest.raises(ConflictError):
        instrument.change_status(
            ev.InstrumentStatusChanged(occurred_on=date(2025, 2, 1), instrument_id="i1", status="in-use")
        )


def test_a_closed_enterprise_cannot_be_closed_or_updated_again():
    owner = enterprise(closed=True)
    with pytest.raises(ConflictError):
        owner.close(ev.EnterpriseClosed(occurred_on=date(2024, 7, 1), enterprise_id="e1"))
    with pytest.raises(ConflictError):
        owner.update(ev.EnterpriseUpdated(occurred_on=date(2024, 7, 1), enterprise_id="e1", name="New"))
