"""One engine, sized by the settings, serves a service's commands, reads and commit notices."""

import pytest

from metrology.eventkit.events import EventRegistry
from metrology.servicekit.runtime import new_runtime
from metrology.servicekit.settings import ServiceSettings

POSTGRES_URL = "postgresql://metrology:secret@127.0.0.1:1/probe"  # never connected to: engines connect lazily


def _runtime(**settings):
    return new_runtime(ServiceSettings(service_name="probe", **settings), EventRegistry(), [])


def test_commands_take_their_connections_from_the_pool_the_settings_size():
    runtime = _runtime(database_url=POSTGRES_URL, database_pool_size=17, database_max_overflow=3)
    assert runtime.connections.engine is runtime.engine
    assert runtime.sessions.kw["bind"] is runtime.engine
    assert runtime.signal._notifier.engine is runtime.engine
    assert runtime.engine.pool.size() == 17
    assert runtime.engine.pool._max_overflow == 3


def test_the_pool_size_is_read_from_the_service_prefixed_variable_first(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_SIZE", "12")
    monkeypatch.setenv("TRAINING_DATABASE_POOL_SIZE", "30")
    monkeypatch.setenv("DATABASE_MAX_OVERFLOW", "4")
    assert ServiceSettings.from_env("training").database_pool_size == 30
    assert ServiceSettings.from_env("registry").database_pool_size == 12
    assert ServiceSettings.from_env("registry").database_max_overflow == 4


@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite:///.run/probe/probe.db"])
def test_a_sqlite_runtime_is_built_whatever_the_pool_settings_say(url):
    runtime = _runtime(database_url=url, database_pool_size=17, database_max_overflow=3)
    assert runtime.connections.engine is runtime.engine
    assert runtime.engine.dialect.name == "sqlite"
