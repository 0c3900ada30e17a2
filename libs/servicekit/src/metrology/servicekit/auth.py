"""Bearer-token authentication with roles and a tenant; a development token issuer for local runs and tests."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from metrology.servicekit.settings import ServiceSettings


class Role(StrEnum):
    PROVINCE_ADMIN = "province-admin"
    PROVIDER = "provider"
    ENTERPRISE = "enterprise"
    TRAINER = "trainer"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    tenant: str
    roles: frozenset[str] = field(default_factory=frozenset)
    provider_id: str | None = None
    enterprise_id: str | None = None

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles.intersection(roles))


ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"})


class JwksKeys:
    """The identity provider's signing keys by `kid`: fetched from a JWKS URL (cached), or read from a file (read
    again when a token names a key it lacks, so a rotated ConfigMap is picked up without a restart)."""

    def __init__(self, *, url: str | None = None, file: str | None = None) -> None:
        self._client = jwt.PyJWKClient(url, lifespan=300, timeout=10) if url else None
        self._file = Path(file) if file and not url else None
        self._keys = jwt.PyJWKSet.from_json(self._file.read_text()) if self._file else None

    def key_for(self, kid: str) -> jwt.PyJWK:
        if self._client is not None:
            return self._client.get_signing_key(kid)
        assert self._keys is not None and self._file is not None
        if not any(key.key_id == kid for key in self._keys.keys):
            self._keys = jwt.PyJWKSet.from_json(self._file.read_text())
        try:
            return self._keys[kid]
        except KeyError:
            raise jwt.InvalidTokenError(f"no signing key with kid {kid!r}") from None


VERIFIED_TOKENS_KEPT = 4096  # tokens whose principal a process remembers (clients reuse a token for hours)
VERIFIED_TOKEN_SECONDS = 60.0  # how long a remembered token is trusted before its signature is checked again


@dataclass(frozen=True, slots=True)
class VerifiedTokens:
    """The principals of tokens verified lately, so that a client's every request does not check the same
    signature again (HS256: ~0.2 ms of a command's CPU; RS256 more). A token is answered from here until its own
    expiry or `VERIFIED_TOKEN_SECONDS` after it was checked, whichever comes first; then it is checked again in
    full (key, signature, issuer, audience), so what the JWKS says of its key is at most that much older than it
    would be otherwise. Only a byte-identical token matches."""

    clock: Callable[[], float] = time.time
    _kept: OrderedDict[str, tuple[Principal, float]] = field(default_factory=OrderedDict)

    def get(self, token: str) -> Principal | None:
        kept = self._kept.get(token)
        if kept is None:
            return None
        if self.clock() >= kept[1]:
            del self._kept[token]
            return None
        return kept[0]

    def keep(self, token: str, principal: Principal, expires_at: float) -> None:
        self._kept[token] = (principal, min(expires_at, self.clock() + VERIFIED_TOKEN_SECONDS))
        while len(self._kept) > VERIFIED_TOKENS_KEPT:
            self._kept.popitem(last=False)


@dataclass(frozen=True, slots=True)
class TokenVerifier:
    """Checks a bearer token: signature (a JWKS key named by `kid`, or HS256 in development), issuer, audience,
    expiry, subject and tenant. A token verified lately is answered from `verified` (see `VerifiedTokens`)."""

    issuer: str
    audience: str
    jwks: JwksKeys | None = None
    secret: str | None = None  # HS256, only when there is no JWKS (development)
    verified: VerifiedTokens = field(default_factory=VerifiedTokens)

    def verify(self, token: str) -> Principal:
        principal = self.verified.get(token)
        if principal is not None:
            return principal
        principal, expires_at = self._verify(token)
        self.verified.keep(token, principal, expires_at)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        key, algorithms = self._key(token)
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=self.issuer,
            audience=self.audience,
            options={"require": ["exp", "sub", "iss", "aud", "tenant"]},
        )
        if not str(claims["tenant"]).strip():
            raise jwt.InvalidTokenError("the token names no tenant")
        principal = Principal(
            subject=claims["sub"],
            tenant=str(claims["tenant"]),
            roles=frozenset(claims.get("roles", [])),
            provider_id=claims.get("provider_id"),
            enterprise_id=claims.get("enterprise_id"),
        )
        return principal, float(claims["exp"])

    def _key(self, token: str) -> tuple[Any, list[str]]:
        if self.jwks is None:
            if not self.secret:
                raise jwt.InvalidTokenError("no key to check tokens with")
            return self.secret, ["HS256"]
        kid = jwt.get_unverified_header(token).get("kid")
        if not kid:
            raise jwt.InvalidTokenError("the token names no key (kid)")
        signing_key = self.jwks.key_for(str(kid))
        algorithm = signing_key.algorithm_name
        if algorithm not in ASYMMETRIC_ALGORITHMS:
            raise jwt.InvalidTokenError(f"key {kid!r} is not an asymmetric signing key")
        return signing_key.key, [algorithm]


def token_verifier(settings: ServiceSettings) -> TokenVerifier:
    """JWKS when configured; otherwise HS256 with the development secret (start-up refuses that in production)."""
    jwks = JwksKeys(url=settings.auth_jwks_url, file=settings.auth_jwks_file) if settings.uses_jwks() else None
    return TokenVerifier(
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        jwks=jwks,
        secret=None if jwks else settings.auth_jwt_secret,
    )


def issue_dev_token(
    secret: str,
    subject: str,
    roles: Iterable[str],
    tenant: str = "83",
    *,
    issuer: str = "metrology-dev",
    audience: str = "metrology",
    ttl_seconds: int = 12 * 3600,
    **claims: Any,
) -> str:
    """A signed HS256 token for local runs and tests; production uses the province's identity provider."""
    now = int(time.time())
    payload = {"sub": subject, "roles": sorted(roles), "tenant": tenant, "iss": issuer, "aud": audience, "iat": now}
    payload["exp"] = now + ttl_seconds
    payload.update({k: v for k, v in claims.items() if v is not None})
    return jwt.encode(payload, secret, algorithm="HS256")


_bearer = HTTPBearer(auto_error=False)


def verify_bearer(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """The principal of a request's bearer token, or 401."""
    if credentials is None:
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    verifier: TokenVerifier = request.app.state.token_verifier
    try:
        return verifier.verify(credentials.credentials)
    except jwt.PyJWTError as error:
        raise HTTPException(401, f"invalid token: {error}", headers={"WWW-Authenticate": "Bearer"}) from error


async def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    # async, so that FastAPI runs it on the event loop instead of handing it to a worker thread
    return verify_bearer(request, credentials)


Authenticated = Annotated[Principal, Depends(authenticate)]


def require(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that lets through only principals holding one of `roles`."""

    async def check(principal: Authenticated) -> Principal:
        if not principal.has_any(roles):
            raise HTTPException(403, f"this needs one of the roles: {', '.join(roles)}")
        return principal

    return check
