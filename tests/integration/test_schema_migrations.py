"""Every service's schema comes from its migrations: a previous release's database is adopted and upgraded with
its rows kept, the migrations build what the models say, and each branch has one head."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine

import metrology
from metrology.eventkit.database import create_engine
from metrology.servicekit.runtime import ServiceRuntime
from metrology.servicekit.schema_migrations import (
    SchemaStateError,
    current_revisions,
    differences,
    service_migrations,
)
from metrology.servicekit.settings import ServiceSettings
from metrology.testkit import infra

pytestmark = pytest.mark.integration

PREVIOUS_RELEASE = Path(__file__).parent / "previous_release"
RELEASED_SERVICES = sorted({p.name.split(".")[0] for p in PREVIOUS_RELEASE.glob("*.sql")})
SERVICES = sorted(
    m.name
    for m in pkgutil.iter_modules(metrology.__path__)
    if importlib.util.find_spec(f"metrology.{m.name}.bootstrap")
)


def runtime_of(service: str, database_url: str) -> ServiceRuntime:
    bootstrap = importlib.import_module(f"metrology.{service}.bootstrap").bootstrap
    runtime: ServiceRuntime = bootstrap(ServiceSettings.from_env(service, database_url=database_url))
    return runtime


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def create_previous_release_schema(engine: AsyncEngine, service: str) -> None:
    """The tables exactly as the release before migrations created them (its create_all DDL, frozen)."""
    ddl = (PREVIOUS_RELEASE / f"{service}.{engine.dialect.name}.sql").read_text()
    code = "\n".join(line for line in ddl.splitlines() if not line.startswith("--"))
    async with engine.begin() as connection:
        for statement in filter(str.strip, code.split(";\n")):
            await connection.exec_driver_sql(statement)


async def fill_every_table(engine: AsyncEngine) -> dict[str, dict[str, Any]]:
    """One row in each table (events, checkpoints, tracking, the service's own), returned by table."""
    rows = {}
    async with engine.begin() as connection:
        tables = await connection.run_sync(lambda c: _reflected(c).sorted_tables)
        for table in tables:
            row = {c.name: _sample(c) for c in table.columns if _needs_value(c)}
            await connection.execute(table.insert().values(row))
            rows[table.name] = {c.name: row[c.name] for c in table.primary_key.columns if c.name in row}
    return rows


async def rows_kept(engine: AsyncEngine, rows: dict[str, dict[str, Any]]) -> dict[str, int]:
    """How many rows of each table still have the primary key they were written with (1 each when kept)."""
    kept = {}
    async with engine.connect() as connection:
        metadata = await connection.run_sync(_reflected)
        for name, key in rows.items():
            table = metadata.tables[name]
            query = sa.select(sa.func.count()).select_from(table)
            query = query.where(*(table.c[column] == value for column, value in key.items()))
            kept[name] = (await connection.execute(query)).scalar_one()
    return kept


@pytest.fixture
async def other_engine(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A second empty database of the same kind as `database_url`'s."""
    admin = None if database_url.startswith("sqlite") else request.getfixturevalue("postgres_admin_url")
    url = await infra.create_database(admin) if admin else f"sqlite:///{tmp_path}/other.db"
    engine = create_engine(url)
    yield engine
    await engine.dispose()
    if admin:
        await infra.drop_database(admin, url)


async def shape_of(engine: AsyncEngine) -> dict[str, Any]:
    """Each table's columns (type, nullability, default), primary key, indexes and unique constraints."""

    def shape(connection: sa.Connection) -> dict[str, Any]:
        inspector = sa.inspect(connection)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", sa.exc.SAWarning)
            return {
                table: {
                    "columns": [
                        (c["name"], _type_name(c["type"], connection), c["nullable"], str(c.get("default")))
                        for c in inspector.get_columns(table)
                    ],
                    "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
                    "indexes": sorted(
                        (i["name"], tuple(i["column_names"]), i["unique"]) for i in inspector.get_indexes(table)
                    ),
                    "unique": sorted(
                        (u["name"] or "", tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)
                    ),
                }
                for table in inspector.get_table_names()
                if table != "alembic_version"
            }

    async with engine.connect() as connection:
        return await connection.run_sync(shape)


def _type_name(kind: Any, connection: sa.Connection) -> str:
    try:
        return str(kind.compile(dialect=connection.dialect))
    except sa.exc.CompileError:
        return type(kind).__name__


def statements_during(engine: AsyncEngine) -> list[str]:
    seen: list[str] = []
    sa.event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


@pytest.mark.parametrize("service", RELEASED_SERVICES)
async def test_a_previous_release_database_is_upgraded_to_every_head_with_its_rows_kept(service, engine):
    runtime = runtime_of(service, str(engine.url))
    await create_previous_release_schema(engine, service)
    rows = await fill_every_table(engine)
    assert {"events", "relay_checkpoints", "processed_events"} <= rows.keys()
    assert len(rows) > 4, "the service's own tables are in the previous release's schema"

    await runtime.migrate()

    assert await rows_kept(runtime.engine, rows) == dict.fromkeys(rows, 1)
    assert await current_revisions(runtime.engine) == runtime.migrations().heads()
    assert await differences(runtime.engine, runtime.migrations()) == []
    await runtime.dispose()


@pytest.mark.parametrize("service", RELEASED_SERVICES)
async def test_migrating_an_up_to_date_database_again_changes_nothing(service, engine):
    runtime = runtime_of(service, str(engine.url))
    await create_previous_release_schema(engine, service)
    rows = await fill_every_table(engine)
    await runtime.migrate()
    revisions = await current_revisions(runtime.engine)
    seen = statements_during(runtime.engine)

    await runtime.migrate()

    changes = [s for s in seen if s.lstrip().split(" ")[0].upper() in {"CREATE", "ALTER", "DROP", "INSERT", "UPDATE"}]
    assert changes == []
    assert await current_revisions(runtime.engine) == revisions
    assert await rows_kept(runtime.engine, rows) == dict.fromkeys(rows, 1)
    await runtime.dispose()


@pytest.mark.parametrize("service", RELEASED_SERVICES)
async def test_the_first_revisions_build_exactly_the_previous_release_schema(service, engine, other_engine):
    await create_previous_release_schema(engine, service)
    migrations = runtime_of(service, str(other_engine.url)).migrations()
    bases = migrations.script().get_bases()
    async with other_engine.begin() as connection:
        await connection.run_sync(lambda c: [command.upgrade(migrations.config(c), base) for base in bases])

    released, baselines = await shape_of(engine), await shape_of(other_engine)

    assert {name: baselines[name] for name in released} == released
    assert set(baselines) - set(released) <= {"idempotency_keys"}  # reporting takes no commands, and had none


@pytest.mark.parametrize("service", SERVICES)
async def test_the_migrations_build_exactly_what_the_models_describe(service, database_url):
    runtime = runtime_of(service, database_url)
    await runtime.migrate()

    found = await differences(runtime.engine, runtime.migrations())

    await runtime.dispose()
    assert found == [], (
        f"the {service} models and migrations disagree: {found}\n"
        f'write the missing revision: .venv/bin/metrology-{service} revision --autogenerate -m "<what changed>" '
        f"(kit tables: add --branch eventkit or --branch servicekit), review it, and run this test again; "
        f"see docs/development.md, 'Schema migrations'"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_every_migration_branch_has_a_single_head(service):
    migrations = service_migrations(service, runtime_of(service, "sqlite://").schema)
    script = migrations.script()
    heads_by_branch: dict[str, list[str]] = {}
    for head in script.get_heads():
        base = list(script.iterate_revisions(head, "base"))[-1]
        heads_by_branch.setdefault(next(iter(base.branch_labels)), []).append(head)

    assert {label: len(heads) for label, heads in heads_by_branch.items()} == {
        branch.label: 1 for branch in migrations.branches
    }, f"two revisions follow the same parent: {heads_by_branch}; chain them (down_revision) in docs/development.md"


async def test_a_database_with_part_of_a_previous_release_branch_is_refused(engine):
    runtime = runtime_of("training", str(engine.url))
    async with engine.begin() as connection:
        await connection.exec_driver_sql("CREATE TABLE relay_checkpoints (name VARCHAR(100) PRIMARY KEY)")

    with pytest.raises(SchemaStateError, match="events"):
        await runtime.migrate()
    await runtime.dispose()


def _reflected(connection: sa.Connection) -> sa.MetaData:
    metadata = sa.MetaData()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sa.exc.SAWarning)  # xid8 is a type SQLAlchemy does not know
        metadata.reflect(connection)
    if "alembic_version" in metadata.tables:
        metadata.remove(metadata.tables["alembic_version"])
    return metadata


def _needs_value(column: sa.Column[Any]) -> bool:
    return column.server_default is None and not (column.table.name == "events" and column.name == "txid")


def _sample(column: sa.Column[Any]) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return True
    if isinstance(kind, sa.DateTime):
        return dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    if isinstance(kind, sa.Date):
        return dt.date(2024, 5, 6)
    if isinstance(kind, sa.Integer | sa.Numeric):
        return 7
    if isinstance(kind, sa.LargeBinary):
        return b'{"specversion": "1.0"}'
    if isinstance(kind, sa.JSON):
        return {"kept": True}
    length = getattr(kind, "length", None) or 40
    return f"{column.name}-1"[:length]
