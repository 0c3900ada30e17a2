"""Envelope encryption and crypto-shredding of trainees' personal data, in memory."""

import base64
import os
from datetime import date

import pytest

from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.training.adapters.crypto import KeyDestroyedError, PersonalDataCipher, parse_master_keys
from metrology.training.domain.events import SealedPersonalData, TraineeRegistered
from metrology.training.domain.personal import PersonalData
from metrology.training.domain.trainee import Trainee

PERSON = PersonalData("Lê Thị Hồng", date(1990, 5, 14), "083190001234", "0912345678")


def new_cipher() -> PersonalDataCipher:
    return PersonalDataCipher(parse_master_keys(f"v1:{base64.b64encode(os.urandom(32)).decode()}"), os.urandom(32))


@pytest.fixture
def cipher() -> PersonalDataCipher:
    return new_cipher()


def test_sealed_personal_data_holds_no_plaintext_and_opens_with_the_persons_key(cipher):
    key = cipher.new_key()
    sealed = cipher.seal(key, "t1", PERSON)
    dumped = sealed.model_dump_json().encode()
    for secret in (PERSON.full_name, PERSON.id_number, "1990-05-14", PERSON.phone):
        assert secret.encode() not in dumped
    assert "Hồng".encode() not in dumped
    assert cipher.open(key, "t1", sealed) == PERSON


def test_the_trainees_organisation_name_is_sealed_with_the_rest(cipher):
    sealed = cipher.seal(cipher.new_key(), "t1", PERSON, "Công ty TNHH Cơ khí Mỏ Cày")
    assert sealed.organisation_name and "Mỏ Cày".encode() not in sealed.model_dump_json().encode()
    assert cipher.seal(cipher.new_key(), "t1", PERSON).organisation_name is None


def test_without_the_key_the_data_never_opens(cipher):
    sealed = cipher.seal(cipher.new_key(), "t1", PERSON)
    with pytest.raises(KeyDestroyedError):
        cipher.open(None, "t1", sealed)
    other = cipher.new_key()
    forged = SealedPersonalData(**(sealed.model_dump() | {"key_id": other.key_id}))
    with pytest.raises(KeyDestroyedError):
        cipher.open(other, "t1", forged)


def test_ciphertext_is_bound_to_its_trainee(cipher):
    key = cipher.new_key()
    sealed = cipher.seal(key, "t1", PERSON)
    with pytest.raises(KeyDestroyedError):
        cipher.open(key, "t2", sealed)


def test_each_field_is_encrypted_with_a_fresh_nonce(cipher):
    key = cipher.new_key()
    first, second = cipher.seal(key, "t1", PERSON), cipher.seal(key, "t1", PERSON)
    assert first.full_name != second.full_name
    assert len(base64.b64decode(first.id_number)) == 12 + len(PERSON.id_number) + 16


def test_the_id_number_digest_is_keyed_and_stable(cipher):
    assert cipher.id_digest("083190001234") == cipher.id_digest(" 083190001234 ")
    assert cipher.id_digest("083190001234") != new_cipher().id_digest("083190001234")


def test_personal_data_is_validated():
    with pytest.raises(RuleViolationError) as refused:
        PersonalData("An", date(1990, 1, 1), "12345")
    assert refused.value.field == "id_number"


def test_a_trainee_is_erased_once(cipher):
    trainee = Trainee()
    sealed = cipher.seal(cipher.new_key(), "t1", PERSON)
    registered = TraineeRegistered(
        occurred_on=date(2025, 3, 1), trainee_id="t1", organisation_kind="enterprise", personal=sealed
    )
    trainee.register(registered)
    trainee.erase(date(2026, 2, 1))
    assert trainee.pending[-1].key_id == sealed.key_id
    with pytest.raises(ConflictError):
        trainee.erase(date(2026, 2, 2))
