"""`metrology-inspection`: the service's command line."""

from __future__ import annotations

from typing import Annotated

import typer

from metrology.inspection.bootstrap import bootstrap
from metrology.inspection.settings import InspectionSettings
from metrology.servicekit.cli import service_cli
from metrology.servicekit.http_commands import http_failures_in_one_line


def app() -> typer.Typer:
    cli = service_cli("inspection", bootstrap, InspectionSettings)

    @cli.command("demo-data")
    def demo_data(
        url: Annotated[str, typer.Option(help="The inspection API, e.g. http://127.0.0.1:8007")],
        token: Annotated[str, typer.Option(help="A province-admin bearer token")],
    ) -> None:
        """Load a year (2025) of inspections in Bến Tre from the registry replica; safe to run again."""
        from metrology.inspection import demo

        with http_failures_in_one_line("inspection", "demo-data"):
            summary = demo.load(url, token)
        typer.echo(", ".join(f"{k}: {v}" for k, v in summary.items()) or "nothing new")

    return cli


def main() -> None:
    app()()
