"""pytest fixtures: the real broker and database, fresh databases per test, and the topics tests made deleted at the
session's end."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from metrology.eventkit.database import create_engine, create_schema
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.store import metadata
from metrology.testkit import infra
from metrology.testkit.sample_events import totals_metadata
from metrology.testkit.services import Platform, running_platform

_TOPICS_REPORT = pytest.StashKey[str]()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Delete the topics this session's tests made (`infra.unique_topic`, `infra.topic_prefix`) and nothing else."""
    try:
        deleted = infra.delete_topics_beginning_with(infra.kafka_servers(), infra.made_topics())
    except Exception as error:  # the broker gone by now: its topics stay, as they did before
        session.config.stash[_TOPICS_REPORT] = f"test topics not deleted: {type(error).__name__}: {error}"
        return
    if deleted:
        session.config.stash[_TOPICS_REPORT] = f"deleted the {deleted} topics the tests made"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    report = config.stash.get(_TOPICS_REPORT, None)
    if report:
        terminalreporter.write_line(report)


@pytest.fixture
def collector_restored() -> Iterator[None]:
    """Python's collector as it was before the test (for tests of commands that settle it, as processes do)."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.fixture(scope="session")
def kafka() -> KafkaConnection:
    return KafkaConnection(bootstrap_servers=infra.kafka_bootstrap())


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    return infra.postgres_url()


@pytest.fixture
async def postgres_url(postgres_admin_url: str) -> AsyncIterator[str]:
    url = await infra.create_database(postgres_admin_url)
    yield url
    await infra.drop_database(postgres_admin_url, url)


@pytest.fixture
def sqlite_url(tmp_path: object) -> str:
    return f"sqlite+aiosqlite:///{tmp_path}/test.db"


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: object) -> AsyncIterator[str]:
    """Each test that takes this runs once on SQLite and once on PostgreSQL (the contract suite)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/test.db"
        return
    admin = request.getfixturevalue("postgres_admin_url")
    url = await infra.create_database(admin)
    yield url
    await infra.drop_database(admin, url)


@pytest.fixture
async def store_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await create_schema(engine, metadata)
    yield engine
    await engine.dispose()


@pytest.fixture
async def totals_engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    """A fresh PostgreSQL database with the event store's tables and the sample `thing_totals` read model."""
    engine = create_engine(postgres_url)
    await create_schema(engine, metadata, totals_metadata)
    yield engine
    await engine.dispose()


@pytest.fixture
def topic() -> str:
    return infra.unique_topic()


SERVICES = ("registry", "verification", "outreach", "training", "reporting")


@pytest.fixture
async def platform(kafka: KafkaConnection, postgres_admin_url: str, tmp_path: Path) -> AsyncIterator[Platform]:
    """Services started as separate processes on real Kafka and a fresh PostgreSQL database each.

    Start the ones a test needs with `platform.start("training")`; all are stopped afterwards.
    """
    urls = {name: await infra.create_database(postgres_admin_url, prefix=name) for name in SERVICES}
    with running_platform(kafka.bootstrap_servers, tmp_path, urls) as running:
        yield running
    for url in urls.values():
        await infra.drop_database(postgres_admin_url, url)
