"""Idempotent writes on PostgreSQL and SQLite: insert unless present, insert or replace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def _insert(session: AsyncSession, table: sa.Table) -> Any:
    dialect = session.get_bind().dialect.name
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


async def insert_once(session: AsyncSession, table: sa.Table, **values: Any) -> None:
    """Insert the row unless one with the same key exists (the first fact wins)."""
    await session.execute(_insert(session, table).values(**values).on_conflict_do_nothing())


async def upsert(session: AsyncSession, table: sa.Table, update: Sequence[str], **values: Any) -> None:
    """Insert the row, or update the `update` columns of the one with the same key."""
    statement = _insert(session, table).values(**values)
    keys = [c.name for c in table.primary_key.columns]
    changes = {name: statement.excluded[name] for name in update if values.get(name) is not None}
    if changes:
        await session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes))
    else:
        await session.execute(statement.on_conflict_do_nothing())
