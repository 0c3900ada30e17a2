"""KPI queries over the read model: every answer is "as of" a business date."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.reporting.adapters.readmodel import completions


async def person_times_trained(connection: AsyncConnection, tenant: str, as_of: date) -> int:
    """Distinct (person, course) completions passed on or before `as_of`."""
    query = sa.select(sa.func.count()).where(
        completions.c.tenant == tenant, completions.c.passed.is_(True), completions.c.completed_on <= as_of
    )
    return int((await connection.execute(query)).scalar_one())
