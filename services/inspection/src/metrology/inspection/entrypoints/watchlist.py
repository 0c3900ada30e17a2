"""HTTP: instruments to inspect, as verification reports them (overdue, unfit) and until verified again."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from metrology.inspection.application.watchlist import Reason, watchlist_page
from metrology.servicekit.auth import Principal, Role, require

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
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> dict[str, Any]:
    async with request.app.state.runtime.engine.connect() as connection:
        return await watchlist_page(connection, principal.tenant, reason, type_code, limit, offset)
