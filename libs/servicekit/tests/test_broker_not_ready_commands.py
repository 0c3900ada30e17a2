"""Operators' commands that read a topic the broker cannot describe yet stop with one line, not a traceback."""

import pytest
from typer.testing import CliRunner

from metrology.eventkit.events import EventRegistry
from metrology.eventkit.topics import TopicNotReadyError
from metrology.servicekit import replay_commands
from metrology.servicekit.cli import service_cli
from metrology.servicekit.runtime import new_runtime

REASON = "the broker's metadata for partition it.metrology.probe.v1[1]: LeaderNotAvailableError"


@pytest.fixture
def probe(monkeypatch, tmp_path):
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/probe.db")
    return service_cli("probe", lambda settings: new_runtime(settings, EventRegistry(), []))


async def _not_ready(*args, **kwargs):
    raise TopicNotReadyError(REASON)
    yield  # an async generator, as the reading it stands for


async def _redrive_not_ready(*args, **kwargs):
    raise TopicNotReadyError(REASON)


def test_a_replay_of_a_topic_the_broker_cannot_describe_stops_with_its_reason(probe, monkeypatch):
    monkeypatch.setattr(replay_commands, "read_topic", _not_ready)

    result = CliRunner().invoke(probe, ["replay", "probe"])

    assert result.exit_code == 2
    assert result.output.strip() == REASON


def test_a_redrive_the_broker_cannot_describe_the_dead_letters_for_stops_with_its_reason(probe, monkeypatch):
    monkeypatch.setattr(replay_commands, "redrive_dead_letters", _redrive_not_ready)

    result = CliRunner().invoke(probe, ["redrive"])

    assert result.exit_code == 2
    assert result.output.strip() == f"{REASON}; nothing was redriven: run it again when it is ready"
