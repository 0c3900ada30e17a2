"""HTTP reads of the replica: the province's registered instruments, and the instruments to inspect as verification
reports them (overdue, unfit) until verified again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from metrology.inspection.application.replica import instruments_page
from metrology.inspection.application.watchlist import Reason, watchlist_page
from metrology.servicekit.auth import Principal, Role, require
from metrology.servicekit.validation import Limit, Offset

router = APIRouter()
Reader = Annotated[Principal, Depends(require(Role.PROVINCE_ADMIN, Role.VIEWER))]


@router.get(
    "/watchlist",
    tags=["findings"],
    summary="Instruments verification reports overdue or unfit, not verified since: where to inspect next",
)
async def get_watchlist(
    request: Request,
    principal: Reader,
    reason: Reason | None = None,
    type_code: Annotated[str | None, Query(max_length=16)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await watchlist_page(connection, principal.tenant, reason, type_code, limit, offset)


@router.get(
    "/instruments",
    tags=["findings"],
    summary="Registered instruments of the province as the replica knows them, with their latest certificate's end",
)
async def list_instruments(
    request: Request,
    principal: Reader,
    type_code: Annotated[str | None, Query(max_length=16)] = None,
    serial: Annotated[str | None, Query(max_length=100)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await instruments_page(connection, principal.tenant, type_code, serial, limit, offset)
