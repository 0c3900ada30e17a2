"""`metrology-outreach`: the service's command line."""

from __future__ import annotations

from typing import Annotated

import typer

from metrology.outreach.bootstrap import bootstrap
from metrology.outreach.settings import OutreachSettings
from metrology.servicekit.cli import service_cli
from metrology.servicekit.http_commands import http_failures_in_one_line
from metrology.servicekit.personal_data import rewrap_command


def app() -> typer.Typer:
    cli = service_cli("outreach", bootstrap, OutreachSettings)

    @cli.command("demo-data")
    def demo_data(
        url: Annotated[str, typer.Option(help="The outreach API, e.g. http://127.0.0.1:8003")],
        token: Annotated[str, typer.Option(help="A province-admin bearer token")],
    ) -> None:
        """Load a year (2025) of programme activity for Bến Tre (after the registry's); safe to run again."""
        from metrology.outreach import demo

        with http_failures_in_one_line("outreach", "demo-data"):
            summary = demo.load(url, token)
        typer.echo(", ".join(f"{k}: {v}" for k, v in summary.items()) or "nothing new")

    cli.command("rewrap-personal-data-keys")(rewrap_command("outreach", bootstrap, OutreachSettings))
    return cli


def main() -> None:
    app()()
