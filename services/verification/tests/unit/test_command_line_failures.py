"""The service's commands stop with one line and exit 2, not a traceback, when the world around them is not as they
need it: a database another release or service migrated, a broker that cannot be reached."""

import sqlite3

import pytest
from typer.testing import CliRunner

from metrology.verification.entrypoints.cli import app

UNREACHABLE = "cannot reach Kafka at 127.0.0.1:1 (KafkaConnectionError: Unable to bootstrap from"


@pytest.fixture
def environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ENVIRONMENT", "development")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/verification.db")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1")  # nothing listens there
    return tmp_path / "verification.db"


def last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "command",
    [["migrate"], ["prune"], ["relay"], ["consume"], ["rebuild"], ["sweep-due"], ["serve"], ["run"]],
)
def test_a_database_at_a_revision_this_release_does_not_know_stops_the_command_and_is_left_as_it_is(
    environment, command
):
    with sqlite3.connect(environment) as database:
        database.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        database.execute("INSERT INTO alembic_version VALUES ('reporting_0012')")

    result = CliRunner().invoke(app(), command)

    assert result.exit_code == 2
    assert last_line(result.output) == (
        "metrology-verification: the database is at schema revision reporting_0012, which this release does not "
        "know (a newer release's database, or another service's): nothing was changed"
    )
    with sqlite3.connect(environment) as database:
        tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"alembic_version"}


@pytest.mark.parametrize(
    ("command", "outcome"),
    [
        (["replay", "registry", "--limit", "1"], "nothing was read"),
        (["rebuild"], "the rebuild stopped there"),
        (["redrive"], "nothing was redriven"),
    ],
)
def test_a_broker_that_cannot_be_reached_stops_an_operators_command_with_one_line(environment, command, outcome):
    result = CliRunner().invoke(app(), command)

    assert result.exit_code == 2
    assert last_line(result.output).startswith(UNREACHABLE)
    assert last_line(result.output).endswith(f"); {outcome}")


def test_provisioning_topics_on_a_broker_that_cannot_be_reached_stops_with_one_line(environment):
    result = CliRunner().invoke(app(), ["provision-topics"])

    assert result.exit_code == 2
    assert last_line(result.output).startswith("metrology-verification: cannot reach Kafka at 127.0.0.1:1 (")
    assert last_line(result.output).endswith("); no topic was made")


@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "1"], ["run", "--port", "1"]])
def test_a_database_that_does_not_answer_stops_a_command_with_one_line_after_the_wait(
    environment, monkeypatch, command
):
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://metrology:metrology@127.0.0.1:1/verification")
    monkeypatch.setenv("DATABASE_WAIT_SECONDS", "1")

    result = CliRunner().invoke(app(), command)

    assert result.exit_code == 2
    assert last_line(result.output).startswith(
        "metrology-verification: the database did not answer within 1 s (ConnectionRefusedError: "
    )


@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "1"]])
def test_an_sqlite_database_whose_folder_cannot_be_made_stops_a_command_with_one_line(
    environment, monkeypatch, tmp_path, command
):
    (tmp_path / "data").write_text("a file where the folder would be")
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/data/verification.db")

    result = CliRunner().invoke(app(), command)

    assert result.exit_code == 2
    assert last_line(result.output) == (
        f"metrology-verification: cannot make the database's folder {tmp_path}/data (FileExistsError: File exists)"
    )


def test_contracts_that_cannot_be_written_stop_schemas_with_one_line(environment, tmp_path):
    (tmp_path / "contracts").write_text("a file where the folder would be")

    result = CliRunner().invoke(app(), ["schemas", "--write", str(tmp_path / "contracts")])

    assert result.exit_code == 2
    assert last_line(result.output).startswith(f"metrology-verification: cannot write {tmp_path}/contracts")
    assert last_line(result.output).endswith("; the contracts after it were not written")


def test_an_asyncapi_document_that_cannot_be_written_stops_with_one_line(environment, tmp_path):
    (tmp_path / "docs").write_text("a file where the folder would be")

    result = CliRunner().invoke(app(), ["asyncapi", "--output", str(tmp_path / "docs" / "asyncapi.json")])

    assert result.exit_code == 2
    assert last_line(result.output) == (
        f"metrology-verification: cannot write {tmp_path}/docs/asyncapi.json (NotADirectoryError: Not a directory)"
    )
    assert (tmp_path / "docs").read_text() == "a file where the folder would be"
