from datetime import date

import pytest

from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.refdata.group2 import group2
from metrology.registry.domain import events as ev
from metrology.registry.domain.provider import Designation, Provider, default_valid_until


def registered() -> Provider:
    provider = Provider()
    provider.register(
        ev.ProviderRegistered(
            occurred_on=date(2023, 1, 1),
            provider_id="p1",
            name="Trung tâm",
            ownership="state",
            province_code="83",
            commune_code="28756",
            fields=["volume"],
            registration_certificate_number="01/ĐKDV",
            registration_certificate_date=date(2023, 1, 1),
        )
    )
    return provider


def designation(on: date = date(2024, 3, 1), types: list[str] | None = None, **dates: date) -> ev.ProviderDesignated:
    valid_from = dates.get("valid_from", on)
    return ev.ProviderDesignated(
        occurred_on=on,
        provider_id="p1",
        designation_id="d1",
        decision_number="1/QĐ",
        instrument_types=types or ["2.19", "2.21a"],
        fields=["volume"],
        valid_from=valid_from,
        valid_until=dates.get("valid_until", default_valid_until(valid_from)),
    )


def test_a_designation_lasts_five_years_by_default():
    assert default_valid_until(date(2024, 3, 1)) == date(2029, 2, 28)
    assert default_valid_until(date(2024, 2, 29)) == date(2029, 2, 27)


def test_a_designation_is_valid_in_its_window_and_expired_after_it():
    d = Designation("d1", ["2.19"], date(2024, 1, 1), date(2028, 12, 31))
    assert d.status_on(date(2023, 12, 31)) == "pending"
    assert d.status_on(date(2024, 1, 1)) == "valid"
    assert d.status_on(date(2028, 12, 31)) == "valid"
    assert d.status_on(date(2029, 1, 1)) == "expired"


def test_a_revoked_designation_is_revoked_from_its_revocation_date():
    d = Designation("d1", ["2.19"], date(2024, 1, 1), date(2028, 12, 31), revoked_on=date(2025, 6, 1))
    assert d.status_on(date(2025, 5, 31)) == "valid"
    assert d.status_on(date(2025, 6, 1)) == "revoked"


def test_types_are_checked_against_the_group2_list_on_the_designation_date():
    provider = registered()
    with pytest.raises(RuleViolationError) as caught:
        provider.designate(designation(types=["2.19", "7.77"]), group2())
    assert caught.value.field == "instrument_types" and "7.77" in caught.value.detail
    with pytest.raises(RuleViolationError):
        provider.designate(designation(on=date(2018, 6, 1)), group2())  # before the list applies
    provider.designate(designation(), group2())
    assert provider.designations["d1"].instrument_types == ["2.19", "2.21a"]


def test_a_designation_must_end_after_it_starts():
    with pytest.raises(RuleViolationError) as caught:
        registered().designate(designation(valid_until=date(2024, 3, 1)), group2())
    assert caught.value.rule == "designation-dates"


def renewal(on: date, until: date) -> ev.DesignationRenewed:
    return ev.DesignationRenewed(occurred_on=on, provider_id="p1", designation_id="d1", valid_until=until)


def test_a_renewal_must_extend_the_designation():
    provider = registered()
    provider.designate(designation(), group2())
    with pytest.raises(RuleViolationError):
        provider.renew(renewal(date(2028, 6, 1), date(2029, 1, 1)))
    provider.renew(renewal(date(2028, 6, 1), date(2034, 2, 28)))
    assert provider.designations["d1"].valid_until == date(2034, 2, 28)


def test_an_expired_or_revoked_designation_cannot_be_renewed():
    provider = registered()
    provider.designate(designation(), group2())
    with pytest.raises(ConflictError) as caught:
        provider.renew(renewal(date(2029, 3, 1), date(2034, 2, 28)))
    assert caught.value.rule == "designation-expired"
    provider.revoke(
        ev.DesignationRevoked(occurred_on=date(2025, 1, 1), provider_id="p1", designation_id="d1", reason="x")
    )
    with pytest.raises(ConflictError):
        provider.revoke(
            ev.DesignationRevoked(occurred_on=date(2025, 2, 1), provider_id="p1", designation_id="d1", reason="y")
        )


def certified(provider: Provider, verifier_id: str = "v1", card: str = "KĐV-1") -> None:
    provider.certify(
        ev.VerifierCertified(
            occurred_on=date(2024, 1, 1),
            provider_id="p1",
            verifier_id=verifier_id,
            card_number=card,
            personal=None,
            fields=["volume"],
            card_valid_until=date(2029, 12, 31),
        )
    )


def test_a_suspended_verifier_is_inactive_until_reinstated():
    provider = registered()
    certified(provider)
    provider.suspend(ev.VerifierSuspended(occurred_on=date(2024, 6, 1), provider_id="p1", verifier_id="v1"))
    assert not provider.is_active_verifier("v1")
    with pytest.raises(ConflictError):
        provider.suspend(ev.VerifierSuspended(occurred_on=date(2024, 6, 2), provider_id="p1", verifier_id="v1"))
    provider.reinstate(ev.VerifierReinstated(occurred_on=date(2024, 9, 1), provider_id="p1", verifier_id="v1"))
    assert provider.is_active_verifier("v1")
    with pytest.raises(ConflictError):
        provider.reinstate(ev.VerifierReinstated(occurred_on=date(2024, 9, 2), provider_id="p1", verifier_id="v1"))


def test_a_card_number_is_held_by_one_verifier():
    provider = registered()
    certified(provider)
    with pytest.raises(ConflictError):
        certified(provider, verifier_id="v2")


def test_a_card_must_be_valid_after_the_certification_date():
    provider = registered()
    event = ev.VerifierCertified(
        occurred_on=date(2024, 1, 1),
        provider_id="p1",
        verifier_id="v1",
        card_number="KĐV-1",
        personal=None,
        fields=["volume"],
        card_valid_until=date(2024, 1, 1),
    )
    with pytest.raises(RuleViolationError) as refused:
        provider.certify(event)
    assert refused.value.rule == "card-validity-dates"


def test_a_certification_published_as_v1_is_read_with_no_card_validity_on_record():
    v1 = {
        "occurred_on": "2019-03-01",
        "provider_id": "p1",
        "verifier_id": "v1",
        "card_number": "KĐV-1",
        "full_name": "A",
        "fields": ["volume"],
    }
    event = ev.registry().load("vn.metrology.registry.verifier-certified.v1", v1)
    assert isinstance(event, ev.VerifierCertified)
    assert event.card_valid_until is None and event.card_number == "KĐV-1"


def test_a_certification_published_as_v2_is_read_without_its_name_in_clear():
    v2 = {
        "occurred_on": "2024-03-01",
        "provider_id": "p1",
        "verifier_id": "v1",
        "card_number": "KĐV-1",
        "full_name": "Trần Thị Bích",
        "fields": ["volume"],
        "card_valid_until": None,
    }
    event = ev.registry().load("vn.metrology.registry.verifier-certified.v2", v2)
    assert isinstance(event, ev.VerifierCertified)
    assert event.personal is None and "Trần" not in event.model_dump_json()


def test_a_verifier_personal_data_is_erased_once():
    provider = registered()
    certified(provider)
    erasure = ev.VerifierPersonalDataErased(occurred_on=date(2025, 1, 1), provider_id="p1", verifier_id="v1")
    provider.erase_personal_data(erasure)
    with pytest.raises(ConflictError) as refused:
        provider.erase_personal_data(erasure)
    assert refused.value.rule == "verifier-personal-data-erased"
    assert provider.is_active_verifier("v1"), "erasure does not end the certification"
