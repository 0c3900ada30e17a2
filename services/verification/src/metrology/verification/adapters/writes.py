"""Set-based writes shared by the replica projection and the command handlers (PostgreSQL and SQLite)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa

from metrology.eventkit.database import DatabaseSession

CHUNK = 1000  # rows per statement: well under either database's limit on bound parameters


@cache
def _upsert_statement(table: sa.Table) -> sa.TextClause:
    """`INSERT ... ON CONFLICT (key) DO UPDATE SET every other column` (PostgreSQL, and SQLite since 3.24).

    Written as text with typed parameters because SQLAlchemy cannot cache the compiled form of its
    dialect-specific `on_conflict_do_update` constructs: each execution would compile the statement anew.
    """
    columns = [c.name for c in table.columns]
    keys = [c.name for c in table.primary_key.columns]
    updates = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in keys)
    sql = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(':' + name for name in columns)}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )
    return sa.text(sql).bindparams(*(sa.bindparam(c.name, type_=c.type) for c in table.columns))


async def upsert(session: DatabaseSession, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (every column given), replacing whole rows whose primary key is taken."""
    if not rows:
        return
    statement = _upsert_statement(table)
    for start in range(0, len(rows), CHUNK):
        await session.execute(statement, list(rows[start : start + CHUNK]))


async def rows_by_key(session: DatabaseSession, table: sa.Table, key: str, values: Sequence[str]) -> dict[str, Any]:
    """The rows of `table` whose `key` is one of `values`, by key (one query per chunk)."""
    found: dict[str, Any] = {}
    for start in range(0, len(values), CHUNK):
        query = sa.select(table).where(table.c[key].in_(values[start : start + CHUNK]))
        found.update((row._mapping[key], row) for row in await session.execute(query))
    return found
