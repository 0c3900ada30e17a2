"""Read-side queries: courses, trainees and rosters, with personal data opened only for roles that need it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.training.adapters.crypto import KeyDestroyedError, PersonalDataCipher
from metrology.training.adapters.views import courses, enrolments, trainees
from metrology.training.domain.events import SealedPersonalData
from metrology.training.domain.personal import ERASED

PERSONAL_FIELDS = ("full_name", "date_of_birth", "id_number", "phone")
HIDDEN = "hidden"


@dataclass(frozen=True)
class Page:
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class PersonalView:
    """Opens sealed personal data for principals who may see it; others get none of it."""

    cipher: PersonalDataCipher
    may_see: bool

    async def render(self, connection: AsyncConnection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not self.may_see:
            return [_without_personal(row, HIDDEN) for row in rows]
        keys = await self.cipher.keys(connection, [r["key_id"] for r in rows if r.get("sealed")])
        return [self._opened(row, keys) for row in rows]

    def _opened(self, row: dict[str, Any], keys: dict[str, Any]) -> dict[str, Any]:
        if not row.get("sealed"):
            return _without_personal(row, ERASED, fill=True)
        sealed = SealedPersonalData.model_validate(row["sealed"])
        try:
            personal = self.cipher.open(keys.get(sealed.key_id), row["trainee_id"], sealed)
        except KeyDestroyedError:
            return _without_personal(row, ERASED, fill=True)
        clear = {
            "full_name": personal.full_name,
            "date_of_birth": personal.date_of_birth.isoformat(),
            "id_number": personal.id_number,
            "phone": personal.phone,
        }
        return _public(row) | clear | {"personal_data": "shown"}


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in {"sealed", "key_id", "id_digest", "tenant"}}


def _without_personal(row: dict[str, Any], state: str, fill: bool = False) -> dict[str, Any]:
    filler = dict.fromkeys(PERSONAL_FIELDS, state) if fill else {}
    return _public(row) | filler | {"personal_data": state}


def _page(items: list[dict[str, Any]], total: int, page: Page) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


async def courses_page(connection: AsyncConnection, tenant: str, page: Page) -> dict[str, Any]:
    where = sa.or_(courses.c.tenant == tenant, courses.c.tenant.is_(None))
    total = (await connection.execute(sa.select(sa.func.count()).select_from(courses).where(where))).scalar_one()
    query = sa.select(courses).where(where).order_by(courses.c.starts_on, courses.c.course_id)
    rows = await connection.execute(query.limit(page.limit).offset(page.offset))
    return _page([dict(r._mapping) for r in rows], total, page)


async def trainees_page(
    connection: AsyncConnection, tenant: str, page: Page, view: PersonalView, course_id: str | None = None
) -> dict[str, Any]:
    base = sa.select(trainees).where(trainees.c.tenant == tenant)
    if course_id is not None:
        joined = trainees.join(enrolments, enrolments.c.trainee_id == trainees.c.trainee_id)
        columns: list[Any] = [
            trainees,
            enrolments.c.enrolled_on,
            enrolments.c.days_present,
            enrolments.c.score,
            enrolments.c.passed,
            enrolments.c.certificate_number,
            enrolments.c.completed_on,
        ]
        base = (
            sa.select(*columns)
            .select_from(joined)
            .where(trainees.c.tenant == tenant, enrolments.c.course_id == course_id)
        )
    total = (await connection.execute(sa.select(sa.func.count()).select_from(base.subquery()))).scalar_one()
    query = base.order_by(trainees.c.registered_on, trainees.c.trainee_id).limit(page.limit).offset(page.offset)
    rows = [dict(r._mapping) for r in await connection.execute(query)]
    return _page(await view.render(connection, rows), total, page)


async def trainee(
    connection: AsyncConnection, tenant: str, trainee_id: str, view: PersonalView
) -> dict[str, Any] | None:
    query = sa.select(trainees).where(trainees.c.tenant == tenant, trainees.c.trainee_id == trainee_id)
    row = (await connection.execute(query)).first()
    if row is None:
        return None
    (rendered,) = await view.render(connection, [dict(row._mapping)])
    return rendered
