"""`metrology-training`: the service's command line."""

from __future__ import annotations

from typing import Annotated

import typer

from metrology.servicekit.cli import service_cli
from metrology.training.bootstrap import bootstrap
from metrology.training.settings import TrainingSettings


def app() -> typer.Typer:
    cli = service_cli("training", bootstrap, TrainingSettings)

    @cli.command("demo-data")
    def demo_data(
        url: Annotated[str, typer.Option(help="The training API, e.g. http://127.0.0.1:8004")],
        token: Annotated[str, typer.Option(help="A trainer or province-admin bearer token")],
    ) -> None:
        """Load a year (2025) of training for Bến Tre: ~10 courses, ~150 trainees; safe to run again."""
        from metrology.training import demo

        summary = demo.load(url, token)
        typer.echo(", ".join(f"{k}: {v}" for k, v in summary.items()) or "nothing new")

    return cli


def main() -> None:
    app()()
