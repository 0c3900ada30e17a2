import pytest
import typer
from typer.testing import CliRunner

from metrology.servicekit.cli import service_cli
from metrology.servicekit.personal_data import rewrap_command
from metrology.servicekit.settings import ServiceSettings


def test_a_service_prefixed_variable_wins_over_the_shared_one(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "shared:9092")
    monkeypatch.setenv("TRAINING_KAFKA_BOOTSTRAP_SERVERS", "own:9092")
    assert ServiceSettings.from_env("training").kafka_bootstrap_servers == "own:9092"
    assert ServiceSettings.from_env("registry").kafka_bootstrap_servers == "shared:9092"


def test_without_a_database_url_a_service_gets_its_own_sqlite_file(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("TRAINING_DATABASE_URL", raising=False)
    monkeypatch.setenv("TRAINING_DATA_DIR", "/var/lib/metrology")
    assert ServiceSettings.from_env("training").database_url == "sqlite+aiosqlite:////var/lib/metrology/training.db"


@pytest.mark.parametrize("command", ["serve", "relay", "consume", "migrate", "rebuild"])
def test_a_setting_that_does_not_fit_stops_a_command_with_one_line_naming_it(command, monkeypatch):
    monkeypatch.setenv("PROBE_EVENTS_KEPT", "-1")
    monkeypatch.setenv("GC_YOUNG_THRESHOLD", "many")
    started: list[ServiceSettings] = []
    cli = service_cli("probe", lambda settings: started.append(settings))  # type: ignore[arg-type,func-returns-value]

    result = CliRunner().invoke(cli, [command])

    assert (result.exit_code, started) == (2, [])
    assert result.output.strip() == (
        "metrology-probe: invalid settings: EVENTS_KEPT: Input should be greater than or equal to 0; "
        "GC_YOUNG_THRESHOLD: Input should be a valid integer, unable to parse string as an integer"
    )


@pytest.mark.parametrize(
    ("variable", "value", "line"),
    [
        ("PROBE_EVENTS_KEPT", "-1", "invalid settings: EVENTS_KEPT: Input should be greater than or equal to 0"),
        ("ENVIRONMENT", "production", "refusing to start: "),
    ],
)
def test_a_setting_unfit_for_it_stops_the_key_rewrap_with_one_line(variable, value, line, monkeypatch):
    monkeypatch.setenv(variable, value)
    started: list[ServiceSettings] = []
    cli = typer.Typer()
    cli.command("rewrap-personal-data-keys")(rewrap_command("probe", started.append, ServiceSettings))  # type: ignore[arg-type]
    cli.command("other")(lambda: None)

    result = CliRunner().invoke(cli, ["rewrap-personal-data-keys"])

    assert (result.exit_code, started, len(result.output.strip().splitlines())) == (2, [], 1)
    assert result.output.startswith(f"metrology-probe: {line}")
