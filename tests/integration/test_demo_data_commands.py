"""Every service's demo-data command stops with one line and exit 2, not a traceback, when the service it loads
through is not there."""

import importlib

import pytest
from typer.testing import CliRunner


@pytest.mark.parametrize(
    ("service", "arguments"),
    [
        ("registry", ["--url", "http://127.0.0.1:1"]),
        ("verification", ["--url", "http://127.0.0.1:1", "--registry-url", "http://127.0.0.1:1"]),
        ("training", ["--url", "http://127.0.0.1:1", "--token", "t"]),
        ("outreach", ["--url", "http://127.0.0.1:1", "--token", "t"]),
        ("inspection", ["--url", "http://127.0.0.1:1", "--token", "t"]),
    ],
)
def test_every_services_demo_data_stops_with_one_line_when_the_service_is_not_there(service, arguments, monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "development")
    cli = importlib.import_module(f"metrology.{service}.entrypoints.cli")
    app = cli.app() if hasattr(cli, "app") else cli.cli()

    result = CliRunner().invoke(app, ["demo-data", *arguments])

    assert result.exit_code == 2
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"metrology-{service}: demo-data stopped: cannot reach http://127.0.0.1:1/")
    assert "(ConnectError: " in last
