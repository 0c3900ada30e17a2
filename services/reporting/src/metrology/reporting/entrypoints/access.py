"""Who may read: anonymous readers when the dashboard is public, any authenticated role otherwise."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from metrology.eventkit.errors import NotFoundError
from metrology.reporting.application.answers import AnswersBusyError
from metrology.reporting.domain.plan import Plan
from metrology.servicekit.auth import verify_bearer

_bearer = HTTPBearer(auto_error=False, description="Optional when REPORTING_PUBLIC_DASHBOARD=true")


def plans_of(request: Request) -> list[Plan]:
    plans: list[Plan] = request.app.state.runtime.plans
    return plans


async def reader_tenant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    tenant: Annotated[
        str | None,
        Query(pattern=r"^\d{2}$", description="Province code read by anonymous readers (default: the first plan's)"),
    ] = None,
) -> str:
    """The tenant a request reads: the token's, or for anonymous readers of a public dashboard the one asked.
    Async, so that FastAPI runs it on the event loop instead of handing it to a worker thread."""
    if credentials is not None:
        return verify_bearer(request, credentials).tenant
    if not request.app.state.runtime.settings.public_dashboard:
        raise HTTPException(401, "a bearer token is required", headers={"WWW-Authenticate": "Bearer"})
    return tenant or plans_of(request)[0].tenant


ReaderTenant = Annotated[str, Depends(reader_tenant)]


def plan_named(request: Request, plan_id: str, tenant: str) -> Plan:
    for plan in plans_of(request):
        if plan.id == plan_id and plan.tenant == tenant:
            return plan
    raise NotFoundError(f"no plan '{plan_id}' for tenant {tenant}", field="plan_id")


def plan_of_tenant(request: Request, tenant: str) -> Plan | None:
    return next((plan for plan in plans_of(request) if plan.tenant == tenant), None)


async def answers_busy_as_503() -> AsyncIterator[None]:
    """A request that found no free computation slot in time is answered 503 with Retry-After, so a crowd of
    anonymous readers is turned away early instead of waiting on the connection pool until it times out."""
    try:
        yield
    except AnswersBusyError as busy:
        raise HTTPException(503, str(busy), headers={"Retry-After": str(busy.retry_after)}) from busy
