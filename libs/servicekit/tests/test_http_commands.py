"""A command working through a service's HTTP API stops with one line and exit 2 when a request is refused, the
service does not answer, or a wait runs out."""

import httpx
import pytest
import typer
from typer.testing import CliRunner

from metrology.servicekit.http_commands import RequestRefusedError, http_failures_in_one_line

PROBLEM = {"type": "about:blank", "title": "Unprocessable Content", "status": 422, "detail": "tax_code: not 10 digits"}


def answering(status: int, **body) -> httpx.Client:
    return httpx.Client(
        base_url="http://registry.test", transport=httpx.MockTransport(lambda request: httpx.Response(status, **body))
    )


def loader_cli(load) -> typer.Typer:
    cli = typer.Typer()

    @cli.command()
    def demo_data() -> None:
        with http_failures_in_one_line("registry", "demo-data"):
            load()
        typer.echo("loaded")

    @cli.command()
    def other() -> None:  # a second command, so that typer keeps the command's name
        return None

    return cli


def refused_post() -> None:
    response = answering(422, json=PROBLEM).post("/enterprises", json={})
    raise RequestRefusedError(response)


def refused_page() -> None:
    answering(401, text="no token").get("/providers").raise_for_status()


def replica_behind() -> None:
    raise TimeoutError("the verification replica did not catch up with the registry")


@pytest.mark.parametrize(
    ("load", "line"),
    [
        (refused_post, "POST http://registry.test/enterprises answered 422: tax_code: not 10 digits"),
        (refused_page, "GET http://registry.test/providers answered 401: no token"),
        (replica_behind, "the verification replica did not catch up with the registry"),
    ],
    ids=["a problem's detail", "a body that is not a problem", "a wait that ran out"],
)
def test_a_refused_request_or_a_wait_that_ran_out_stops_the_command_with_one_line(load, line):
    result = CliRunner().invoke(loader_cli(load), ["demo-data"])

    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == f"metrology-registry: demo-data stopped: {line}"
    assert "Traceback" not in result.output
