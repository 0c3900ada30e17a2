"""HTTP: the registration requests that state inspections raise (instruments found in use, not registered)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from metrology.registry.application.registration_requests import Status, requests_page
from metrology.servicekit.auth import Principal, Role, require
from metrology.servicekit.validation import Limit, Offset

router = APIRouter()
Staff = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.VIEWER))]


@router.get(
    "/registration-requests",
    tags=["instruments"],
    summary="Instruments found in use at state inspections that were not registered: pending, or registered since",
)
async def list_registration_requests(
    request: Request,
    principal: Staff,
    status: Status | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await requests_page(connection, principal.tenant, status, limit, offset)
