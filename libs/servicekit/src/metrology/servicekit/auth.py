"""Bearer-token authentication with roles and a tenant; a development token issuer for local runs and tests."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer


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


@dataclass(frozen=True, slots=True)
class TokenVerifier:
    """Verifies HS256 tokens with a shared secret (development) or RS256/ES256 with a public key."""

    secret: str
    public_key: str | None = None
    issuer: str = "metrology-dev"

    def verify(self, token: str) -> Principal:
        key, algorithms = (self.public_key, ["RS256", "ES256"]) if self.public_key else (self.secret, ["HS256"])
        claims = jwt.decode(token, key, algorithms=algorithms, issuer=self.issuer, options={"require": ["exp", "sub"]})
        return Principal(
            subject=claims["sub"],
            tenant=str(claims.get("tenant", "")),
            roles=frozenset(claims.get("roles", [])),
            provider_id=claims.get("provider_id"),
            enterprise_id=claims.get("enterprise_id"),
        )


def issue_dev_token(
    secret: str,
    subject: str,
    roles: Iterable[str],
    tenant: str = "83",
    *,
    issuer: str = "metrology-dev",
    ttl_seconds: int = 12 * 3600,
    **claims: Any,
) -> str:
    """A signed HS256 token for local runs and tests; production uses the province's identity provider."""
    now = int(time.time())
    payload = {"sub": subject, "roles": sorted(roles), "tenant": tenant, "iss": issuer, "iat": now}
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
