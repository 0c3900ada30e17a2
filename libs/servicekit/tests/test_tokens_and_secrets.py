"""Tokens are checked against the identity provider's JWKS (kid, issuer, audience, tenant); production refuses to
start on a development or empty secret."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from metrology.servicekit.auth import (
    VERIFIED_TOKEN_SECONDS,
    JwksKeys,
    TokenVerifier,
    VerifiedTokens,
    issue_dev_token,
    token_verifier,
)
from metrology.servicekit.settings import DEV_JWT_SECRET, InsecureSettingsError, ServiceSettings

ISSUER, AUDIENCE = "https://id.example.gov.vn", "metrology"
PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks_document() -> dict[str, Any]:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(PRIVATE.public_key()))
    return {"keys": [public | {"kid": "2026-01", "alg": "RS256", "use": "sig"}]}


def signed(claims: dict[str, Any] | None = None, *, kid: str | None = "2026-01", key: Any = PRIVATE) -> str:
    now = int(time.time())
    payload = {"sub": "u1", "iss": ISSUER, "aud": AUDIENCE, "tenant": "79", "roles": ["viewer"], "exp": now + 60}
    headers = {"kid": kid} if kid else {}
    return jwt.encode(payload | (claims or {}), key, algorithm="RS256", headers=headers)


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks_document()))
    return path


@pytest.fixture
def verifier(jwks_file: Path) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=JwksKeys(file=str(jwks_file)))


@pytest.fixture
def jwks_url() -> Iterator[str]:
    body = json.dumps(jwks_document()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    server.shutdown()


def test_a_token_signed_with_a_key_of_the_jwks_names_its_subject_tenant_and_roles(verifier):
    principal = verifier.verify(signed())
    assert (principal.subject, principal.tenant, principal.roles) == ("u1", "79", frozenset({"viewer"}))


def test_keys_are_fetched_from_the_identity_providers_jwks_url(jwks_url):
    verifier = token_verifier(ServiceSettings(auth_jwks_url=jwks_url, auth_issuer=ISSUER, auth_audience=AUDIENCE))
    assert verifier.verify(signed()).tenant == "79"
    with pytest.raises(jwt.PyJWTError):
        verifier.verify(signed(kid="retired"))


@pytest.mark.parametrize(
    ("why", "token"),
    [
        ("no kid", lambda: signed(kid=None)),
        ("unknown kid", lambda: signed(kid="2019-01")),
        ("signed by another key", lambda: signed(key=OTHER_PRIVATE)),
        ("another audience", lambda: signed({"aud": "someone-else"})),
        ("another issuer", lambda: signed({"iss": "https://evil.example"})),
        ("no tenant", lambda: signed({"tenant": None})),
        ("an empty tenant", lambda: signed({"tenant": ""})),
        ("expired", lambda: signed({"exp": int(time.time()) - 120})),
        ("HS256 with the public development secret", lambda: issue_dev_token(DEV_JWT_SECRET, "u1", ["viewer"], "79")),
    ],
)
def test_a_token_is_refused_when_it_has(verifier, why, token):
    with pytest.raises(jwt.PyJWTError):
        verifier.verify(token())


def test_a_development_token_needs_the_audience_and_a_tenant():
    verifier = token_verifier(ServiceSettings(environment="development", auth_jwt_secret="s" * 40))
    assert verifier.verify(issue_dev_token("s" * 40, "u1", ["viewer"], "79", issuer="metrology-dev")).tenant == "79"
    with pytest.raises(jwt.PyJWTError):
        verifier.verify(issue_dev_token("s" * 40, "u1", ["viewer"], "", issuer="metrology-dev"))
    with pytest.raises(jwt.PyJWTError):
        verifier.verify(issue_dev_token("s" * 40, "u1", ["viewer"], "79", audience="another-platform"))


def test_production_refuses_to_start_without_a_jwks(monkeypatch):
    for name in ("ENVIRONMENT", "AUTH_JWKS_URL", "AUTH_JWKS_FILE"):
        monkeypatch.delenv(name, raising=False)
    settings = ServiceSettings.from_env("registry")
    assert settings.environment == "production"
    with pytest.raises(InsecureSettingsError, match="AUTH_JWKS_URL"):
        settings.ensure_production_ready()


def test_production_starts_with_a_jwks_and_development_starts_with_anything(jwks_file):
    ServiceSettings(auth_jwks_file=str(jwks_file), actor_pseudonym_key="k" * 32).ensure_production_ready()
    ServiceSettings(environment="development").ensure_production_ready()


def test_a_key_added_to_the_jwks_file_is_used_without_a_restart(verifier, jwks_file):
    with pytest.raises(jwt.PyJWTError):
        verifier.verify(signed(kid="2026-07", key=OTHER_PRIVATE))
    document = jwks_document()
    added = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(OTHER_PRIVATE.public_key()))
    document["keys"].append(added | {"kid": "2026-07", "alg": "RS256", "use": "sig"})
    jwks_file.write_text(json.dumps(document))
    assert verifier.verify(signed(kid="2026-07", key=OTHER_PRIVATE)).subject == "u1"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def remembering_verifier(jwks_file: Path, clock: Clock) -> TokenVerifier:
    return TokenVerifier(
        issuer=ISSUER, audience=AUDIENCE, jwks=JwksKeys(file=str(jwks_file)), verified=VerifiedTokens(clock=clock)
    )


def decodes_counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    decoded: list[str] = []
    decode = jwt.decode

    def counted(*args: Any, **kwargs: Any) -> Any:
        decoded.append(args[0])
        return decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counted)
    return decoded


def test_a_token_verified_lately_is_not_checked_again(jwks_file, monkeypatch):
    verifier = remembering_verifier(jwks_file, Clock())
    token = signed()
    decoded = decodes_counted(monkeypatch)
    principals = [verifier.verify(token) for _ in range(5)]
    assert decoded == [token] and len(set(principals)) == 1 and principals[0].tenant == "79"


def test_a_remembered_token_is_refused_once_it_expires(jwks_file):
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=JwksKeys(file=str(jwks_file)))
    expires = int(time.time()) + 2
    token = signed({"exp": expires})
    assert verifier.verify(token).subject == "u1"
    while time.time() < expires + 0.05:
        time.sleep(0.1)
    with pytest.raises(jwt.ExpiredSignatureError):
        verifier.verify(token)


def test_a_remembered_token_is_checked_again_after_a_minute(jwks_file, monkeypatch):
    clock = Clock()
    verifier = remembering_verifier(jwks_file, clock)
    token = signed({"exp": int(time.time()) + 3600})
    decoded = decodes_counted(monkeypatch)
    verifier.verify(token)
    clock.now += VERIFIED_TOKEN_SECONDS / 2
    verifier.verify(token)
    assert len(decoded) == 1
    clock.now += VERIFIED_TOKEN_SECONDS / 2
    verifier.verify(token)
    assert len(decoded) == 2, "its signature, issuer, audience and key were checked again"


def test_a_token_altered_by_one_character_is_checked_not_matched(jwks_file):
    verifier = remembering_verifier(jwks_file, Clock())
    token = signed()
    assert verifier.verify(token).tenant == "79"
    head, payload, signature = token.split(".")
    forged_payload = jwt.utils.base64url_encode(
        json.dumps(json.loads(jwt.utils.base64url_decode(payload)) | {"tenant": "83"}).encode()
    ).decode()
    with pytest.raises(jwt.InvalidSignatureError):
        verifier.verify(f"{head}.{forged_payload}.{signature}")


def test_the_process_remembers_a_bounded_number_of_tokens(jwks_file, monkeypatch):
    monkeypatch.setattr("metrology.servicekit.auth.VERIFIED_TOKENS_KEPT", 3)
    verified = VerifiedTokens()
    verifier = TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=JwksKeys(file=str(jwks_file)), verified=verified)
    tokens = [signed({"sub": f"u{n}"}) for n in range(5)]
    for token in tokens:
        verifier.verify(token)
    assert [verified.get(t) is not None for t in tokens] == [False, False, True, True, True]
