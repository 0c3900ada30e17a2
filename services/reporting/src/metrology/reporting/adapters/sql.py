"""Idempotent writes on PostgreSQL and SQLite: insert unless present, insert or replace."""

from __future__ import annotations

import functools
import json
import operator
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from metrology.eventkit.database import DatabaseSession, dialect_of
from metrology.eventkit.store import driver_connection
from metrology.reporting.adapters.readmodel import read_model_versions


def _insert(session: DatabaseSession, table: sa.Table) -> Any:
    dialect = dialect_of(session)
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


async def insert_once(session: DatabaseSession, table: sa.Table, **values: Any) -> None:
    """Insert the row unless one with the same key exists (the first fact wins)."""
    await session.execute(_insert(session, table).values(**values).on_conflict_do_nothing())


async def upsert(session: DatabaseSession, table: sa.Table, update: Sequence[str], **values: Any) -> None:
    """Insert the row, or update the `update` columns of the one with the same key."""
    statement = _insert(session, table).values(**values)
    keys = [c.name for c in table.primary_key.columns]
    changes = {name: statement.excluded[name] for name in update if values.get(name) is not None}
    if changes:
        await session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes))
    else:
        await session.execute(statement.on_conflict_do_nothing())


class PendingWrites:
    """The facts of one batch, held by key until the batch's end and then written a table at a time.

    `insert_once` and `upsert` here mean what the functions above mean, applied in the order they were asked:
    facts with the same key are merged in memory (first insert wins; an upsert overrides the columns it names
    when not None), so each table gets one multi-row statement per kind of write instead of one per event. The
    writes live on the session, so they are flushed in the batch's own transaction or dropped with it.
    """

    INFO_KEY = "metrology.reporting.pending_writes"

    def __init__(self) -> None:
        self.recorded_at: datetime | None = None  # of the event being folded: set on the rows it writes
        # table -> key -> the writes still needed for that key, in order: (values, update columns or None)
        self._pending: dict[sa.Table, dict[tuple[Any, ...], list[tuple[dict[str, Any], tuple[str, ...] | None]]]] = {}

    @classmethod
    def of(cls, session: DatabaseSession) -> PendingWrites:
        writes = session.info.get(cls.INFO_KEY)
        if writes is None:
            writes = session.info[cls.INFO_KEY] = cls()
        return writes

    def _stamped(self, table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
        if _shape(table).stamped and "recorded_at" not in values:
            values["recorded_at"] = self.recorded_at
        return values

    def insert_once(self, table: sa.Table, **values: Any) -> None:
        values = self._stamped(table, values)
        rows = self._pending.setdefault(table, {})
        key = _shape(table).key(values)
        if key not in rows:  # a row already pending (inserted or upserted) for the key makes this a no-op
            rows[key] = [(values, None)]

    def upsert(self, table: sa.Table, update: Sequence[str], **values: Any) -> None:
        values = self._stamped(table, values)
        rows = self._pending.setdefault(table, {})
        key = _shape(table).key(values)
        ops = rows.get(key)
        update = tuple(update)
        if ops is None:
            rows[key] = [(values, update)]
            return
        last, last_update = ops[-1]
        if last_update == update:  # upsert after upsert: the later non-None values win, column by column
            merged = dict(last)
            merged.update({name: values[name] for name in update if values.get(name) is not None})
            ops[-1] = (merged, update)
        elif len(ops) == 1 and last_update is None and _covers(table, update, values):
            # insert then an upsert that sets every other column: the upsert decides, the first recording stays
            ops[0] = ({**values, "recorded_at": last.get("recorded_at")}, update)
        else:
            ops.append((values, update))  # rare: replayed one by one at flush time

    def keys_of(self, table: sa.Table, *columns: str) -> set[tuple[Any, ...]]:
        """The values of `columns` in the rows still pending for `table`."""
        return {tuple(ops[0][0][c] for c in columns) for ops in self._pending.get(table, {}).values() if ops}

    def tenants(self) -> set[str]:
        """The tenants of the facts still pending."""
        return {ops[0][0]["tenant"] for rows in self._pending.values() for ops in rows.values() if ops}

    async def flush(self, session: DatabaseSession) -> set[sa.Table]:
        """Write everything pending (in the session's transaction); returns the tables written to.

        Tables go in name order and each table's rows in key order: two transactions writing some of the same keys
        (consumers or replay lanes on other partitions) then take their row locks in one order and never deadlock.
        """
        touched = set()
        pending, self._pending = self._pending, {}
        for table, rows in sorted(pending.items(), key=lambda item: item[0].name):
            if not rows:
                continue
            touched.add(table)
            inserts: list[dict[str, Any]] = []  # each row's values (a column not named is NULL)
            upserts: dict[tuple[str, ...], list[dict[str, Any]]] = {}
            replays = []
            for _, ops in sorted(rows.items(), key=operator.itemgetter(0)):
                if len(ops) > 1:
                    replays.append(ops)
                    continue
                values, update = ops[0]
                if update is None:
                    inserts.append(values)
                else:
                    upserts.setdefault(update, []).append(values)
            if inserts:
                await _write_rows(session, table, None, inserts)
            for update, batch in upserts.items():
                await _write_rows(session, table, update, batch)
            for ops in replays:
                for values, update in ops:
                    if update is None:
                        await insert_once(session, table, **values)
                    else:
                        await upsert(session, table, update, **values)
        return touched


async def bump_versions(session: DatabaseSession, tenants: set[str]) -> None:
    """Advance the read-model version of each tenant (a new epoch at 1 when the tenant has no row yet)."""
    for tenant in sorted(tenants):  # a fixed order: two projectors never wait on each other's rows in a cycle
        await session.execute(_bumping_version(), {"tenant": tenant, "epoch": uuid.uuid4().hex})


@functools.cache
def _bumping_version() -> sa.TextClause:
    """One statement for both databases (they share the upsert's syntax), built once. Every batch runs it, and
    SQLAlchemy 2.0 compiles a dialect's INSERT .. ON CONFLICT again on each execution (it has no cache key)."""
    v = read_model_versions
    return sa.text(
        f"INSERT INTO {v.name} (tenant, epoch, version) VALUES (:tenant, :epoch, 1) "
        f"ON CONFLICT (tenant) DO UPDATE SET version = {v.name}.version + 1"
    ).bindparams(sa.bindparam("tenant", type_=v.c.tenant.type), sa.bindparam("epoch", type_=v.c.epoch.type))


@dataclass(frozen=True)
class _Shape:
    """What the pending writes need of a table, worked out once (iterating a column collection per folded event
    was a sixth of a rebuild's CPU)."""

    keys: tuple[str, ...]  # the primary key's columns
    names: tuple[str, ...]  # every column
    json_names: frozenset[str]
    stamped: bool  # has `recorded_at`
    key: Callable[[dict[str, Any]], tuple[Any, ...]]  # a row's primary key from its values


@functools.cache
def _shape(table: sa.Table) -> _Shape:
    keys = tuple(c.name for c in table.primary_key.columns)
    getter = operator.itemgetter(*keys)
    return _Shape(
        keys=keys,
        names=tuple(c.name for c in table.columns),
        json_names=frozenset(c.name for c in table.columns if isinstance(c.type, sa.JSON)),
        stamped="recorded_at" in table.c,
        key=getter if len(keys) > 1 else lambda values: (getter(values),),
    )


def _covers(table: sa.Table, update: Sequence[str], values: dict[str, Any]) -> bool:
    others = _others(table)
    return others <= set(update) and all(values.get(name) is not None for name in others)


@functools.cache
def _others(table: sa.Table) -> frozenset[str]:
    """The columns that are neither the key nor the recording time."""
    shape = _shape(table)
    return frozenset(shape.names) - set(shape.keys) - {"recorded_at"}


async def _write_rows(
    session: DatabaseSession, table: sa.Table, update: tuple[str, ...] | None, rows: list[dict[str, Any]]
) -> None:
    """Insert `rows` unless present (`update` None), or insert or set their `update` columns unless NULL: on
    PostgreSQL one statement over the rows as arrays, one per column; elsewhere one multi-row execution."""
    names = _shape(table).names
    if dialect_of(session) != "postgresql":
        statement = _insert(session, table)
        statement = statement.on_conflict_do_nothing() if update is None else _coalescing_upsert(session, table, update)
        await session.execute(statement, [{name: values.get(name) for name in names} for values in rows])
        return
    driver = await driver_connection(session)
    json_names = _shape(table).json_names
    arrays = [[values.get(name) for values in rows] for name in names]
    for n, name in enumerate(names):
        if name in json_names:  # sent as text and cast: the driver has no codec for arrays of json
            arrays[n] = [None if value is None else json.dumps(value) for value in arrays[n]]
    await driver.execute(_unnest_statement(table, update), *arrays)


@functools.cache
def _unnest_statement(table: sa.Table, update: tuple[str, ...] | None) -> str:
    """INSERT … SELECT over unnest($1::type[], …): a batch's rows of `table` in one statement and one plan."""
    shape, dialect = _shape(table), postgresql.dialect()
    types = ["text" if c.name in shape.json_names else c.type.compile(dialect=dialect) for c in table.columns]
    arrays = ", ".join(f"${n}::{kind}[]" for n, kind in enumerate(types, start=1))
    columns = ", ".join(f'"{name}"' for name in shape.names)
    values = ", ".join(f'"{name}"::json' if name in shape.json_names else f'"{name}"' for name in shape.names)
    statement = f'INSERT INTO "{table.name}" ({columns}) SELECT {values} FROM unnest({arrays}) AS batch({columns})'
    keys = ", ".join(f'"{name}"' for name in shape.keys)
    if update is None:
        return f"{statement} ON CONFLICT ({keys}) DO NOTHING"
    changes = ", ".join(f'"{name}" = coalesce(excluded."{name}", "{table.name}"."{name}")' for name in update)
    return f"{statement} ON CONFLICT ({keys}) DO UPDATE SET {changes}"


def _coalescing_upsert(session: DatabaseSession, table: sa.Table, update: Sequence[str]) -> Any:
    """Insert, or set each `update` column to the new value unless that is NULL (then it keeps its value)."""
    statement = _insert(session, table)
    keys = [c.name for c in table.primary_key.columns]
    changes = {name: sa.func.coalesce(statement.excluded[name], table.c[name]) for name in update}
    return statement.on_conflict_do_update(index_elements=keys, set_=changes)
