"""`metrology-registry`: the service's command line, plus `demo-data`."""

from __future__ import annotations

from typing import Annotated

import typer

from metrology.registry.bootstrap import bootstrap
from metrology.registry.settings import RegistrySettings
from metrology.servicekit.cli import service_cli
from metrology.servicekit.http_commands import http_failures_in_one_line
from metrology.servicekit.personal_data import rewrap_command


def app() -> typer.Typer:
    cli = service_cli("registry", bootstrap, RegistrySettings)

    @cli.command("demo-data")
    def demo_data(
        url: Annotated[str, typer.Option(help="the registry's base URL")] = "http://127.0.0.1:8001",
        token: Annotated[str, typer.Option(help="a province-admin bearer token")] = "",
    ) -> None:
        """Load the Bến Tre demo data set over HTTP (idempotent: a second run adds nothing)."""
        from metrology.registry.demo import load_demo

        with http_failures_in_one_line("registry", "demo-data"):
            summary = load_demo(url, token)
        typer.echo(", ".join(f"{name}: {count}" for name, count in summary.items()))

    cli.command("rewrap-personal-data-keys")(rewrap_command("registry", bootstrap, RegistrySettings))
    return cli


def main() -> None:
    app()()
