"""Set-based writes shared by the replica projection and the command handlers (PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

CHUNK = 1000  # rows per statement: well under either database's limit on bound parameters


async def upsert(session: AsyncSession, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows`, replacing whole rows whose primary key is taken: one statement per chunk."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    keys = [c.name for c in table.primary_key.columns]
    statement = insert.on_conflict_do_update(
        index_elements=keys, set_={c.name: insert.excluded[c.name] for c in table.columns if c.name not in keys}
    )
    for start in range(0, len(rows), CHUNK):
        await session.execute(statement, list(rows[start : start + CHUNK]))


async def rows_by_key(session: AsyncSession, table: sa.Table, key: str, values: Sequence[str]) -> dict[str, Any]:
    """The rows of `table` whose `key` is one of `values`, by key (one query per chunk)."""
    found: dict[str, Any] = {}
    for start in range(0, len(values), CHUNK):
        query = sa.select(table).where(table.c[key].in_(values[start : start + CHUNK]))
        found.update((row._mapping[key], row) for row in await session.execute(query))
    return found
