import gc

import pytest
from typer.testing import CliRunner

from metrology.eventkit.replay import ReplayProgress
from metrology.eventkit.topics import NoSuchTopicError, TopicNotReadyError
from metrology.reporting.entrypoints import cli as reporting_cli
from metrology.servicekit.replaying import RebuildResult


def test_the_reporting_rebuild_settles_the_collector_before_it_replays(monkeypatch, tmp_path, collector_restored):
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/reporting.db")
    monkeypatch.setenv("GC_YOUNG_THRESHOLD", "34567")  # the APIs' threshold: not the one a rebuild folds with
    monkeypatch.setenv("GC_YOUNG_THRESHOLD_FOLDS", "345670")
    seen: dict[str, int] = {}

    async def replay_nothing(runtime: object, batch_size: int, lanes: object) -> RebuildResult:
        seen["threshold"] = gc.get_threshold()[0]
        seen["frozen"] = gc.get_freeze_count()
        return RebuildResult("kpi", ReplayProgress(0, 0, 0.0), 0, False, "nothing to move")

    async def evaluate_nothing(runtime: object, settings: object) -> None:
        return None

    monkeypatch.setattr(reporting_cli, "_rebuild", replay_nothing)
    monkeypatch.setattr(reporting_cli, "_evaluate", evaluate_nothing)
    result = CliRunner().invoke(reporting_cli.cli(), ["rebuild"])
    assert result.exit_code == 0, result.output
    assert seen["threshold"] == 345_670
    assert seen["frozen"] > 0


def test_a_rebuild_in_several_processes_on_sqlite_stops_with_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/reporting.db")

    result = CliRunner().invoke(reporting_cli.cli(), ["rebuild", "--workers", "2"])

    assert result.exit_code == 2
    assert result.output.strip() == (
        "metrology-reporting: --workers 2 needs PostgreSQL: "
        "SQLite takes one writer at a time (rebuild with --workers 1)"
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            TopicNotReadyError("the broker's metadata for topic metrology.training.v1: LeaderNotAvailableError"),
            "the broker's metadata for topic metrology.training.v1: LeaderNotAvailableError; the read model is as it "
            "was: rebuild when it is ready",
        ),
        (
            NoSuchTopicError("no such topic: other.metrology.registry.v1, other.metrology.training.v1"),
            "no such topic: other.metrology.registry.v1, other.metrology.training.v1; the read model is as it was "
            "(is KAFKA_TOPIC_PREFIX right?)",
        ),
    ],
    ids=["broker-not-ready", "no-such-topic"],
)
def test_a_rebuild_whose_topics_cannot_be_read_stops_with_one_line(monkeypatch, tmp_path, error, expected):
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/reporting.db")

    async def unreadable(runtime: object, batch_size: int, lanes: object) -> RebuildResult:
        raise error

    monkeypatch.setattr(reporting_cli, "_rebuild", unreadable)
    result = CliRunner().invoke(reporting_cli.cli(), ["rebuild"])

    assert result.exit_code == 2
    assert result.output.strip() == f"metrology-reporting: {expected}"


def test_a_rebuild_that_cannot_reach_the_broker_stops_with_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/reporting.db")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")  # nothing listens there

    result = CliRunner().invoke(reporting_cli.cli(), ["rebuild"])

    assert result.exit_code == 2
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("metrology-reporting: cannot reach Kafka at 127.0.0.1:1 (KafkaConnectionError:")
    assert last.endswith("); the rebuild stopped: run it again when it answers")


def test_a_rebuild_in_batches_of_no_record_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/reporting.db")

    result = CliRunner().invoke(reporting_cli.cli(), ["rebuild", "--batch-size", "0"])

    assert result.exit_code == 2
    assert "--batch-size" in result.output
