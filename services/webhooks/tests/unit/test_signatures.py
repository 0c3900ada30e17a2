"""Deliveries are signed as Standard Webhooks says, checked against its reference implementation."""

import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from metrology.webhooks.domain.signing import new_secret, secret_bytes, sign, signed_headers

# The test vector of the reference implementation's test suite (libraries/python/tests/test_webhooks.py)
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_signature_matches_the_reference_test_vector():
    assert sign(VECTOR_SECRET, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_secret_prefix_is_optional_as_in_the_reference():
    assert sign(VECTOR_SECRET.removeprefix("whsec_"), VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_the_reference_verifier_accepts_our_headers_and_refuses_a_changed_body():
    secret, body = new_secret(), '{"specversion": "1.0", "data": {"tên": "Bến Tre"}}'.encode()
    headers = signed_headers([secret], "evt-1", int(time.time()), body).as_dict()
    assert Webhook(secret).verify(body, headers)["data"] == {"tên": "Bến Tre"}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace(b"Tre", b"Tri"), headers)


def test_during_a_rotation_each_secret_verifies_on_its_own():
    new, previous = new_secret(), new_secret()
    body = b'{"a": 1}'
    headers = signed_headers([new, previous], "evt-2", int(time.time()), body).as_dict()
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert Webhook(new).verify(body, headers) == {"a": 1}
    assert Webhook(previous).verify(body, headers) == {"a": 1}
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_a_new_secret_is_whsec_and_32_random_bytes():
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(secret_bytes(first)) == 32


def test_a_delivery_cannot_go_unsigned():
    with pytest.raises(ValueError):
        signed_headers([], "evt-3", 0, b"{}")
