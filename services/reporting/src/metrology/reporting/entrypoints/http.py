"""HTTP API of the reporting service: KPIs as of any date."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from metrology.reporting.application import queries
from metrology.servicekit.auth import Authenticated

router = APIRouter(prefix="/kpis", tags=["kpis"])


class KpiValue(BaseModel):
    metric: str
    tenant: str
    as_of: date
    value: float


@router.get("/person-times-trained", response_model=KpiValue, summary="Person-times trained (lượt người) as of a date")
async def person_times_trained(
    request: Request, principal: Authenticated, as_of: Annotated[date | None, Query()] = None
) -> KpiValue:
    as_of = as_of or date.today()
    async with request.app.state.runtime.engine.connect() as connection:
        value = await queries.person_times_trained(connection, principal.tenant, as_of)
    return KpiValue(metric="person-times-trained", tenant=principal.tenant, as_of=as_of, value=value)
