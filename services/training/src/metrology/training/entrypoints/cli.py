"""`metrology-training`: the service's command line."""

from __future__ import annotations

from typing import Annotated

import typer

from metrology.eventkit import event_loop
from metrology.servicekit.cli import service_cli
from metrology.servicekit.command_settings import migrate_or_exit, production_ready_settings
from metrology.servicekit.http_commands import http_failures_in_one_line
from metrology.training.adapters.crypto import PersonalDataCipher, RewrapSummary
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

        with http_failures_in_one_line("training", "demo-data"):
            summary = demo.load(url, token)
        typer.echo(", ".join(f"{k}: {v}" for k, v in summary.items()) or "nothing new")

    @cli.command("rewrap-keys")
    def rewrap_keys() -> None:
        """Re-wrap every trainee data key under the newest of TRAINING_MASTER_KEYS (personal data is untouched)."""
        settings = production_ready_settings(TrainingSettings, "training")
        summary = event_loop.run(_rewrap_all(settings))
        typer.echo(f"training: {summary.rewrapped} of {summary.keys} data keys re-wrapped under the newest key")

    return cli


async def _rewrap_all(settings: TrainingSettings) -> RewrapSummary:
    """Bring the schema up to date, then re-wrap every data key under the newest KEK in one transaction."""
    runtime = bootstrap(settings)
    try:
        await migrate_or_exit(runtime)
        cipher = PersonalDataCipher.from_settings(settings)
        async with runtime.sessions() as session, session.begin():
            return await cipher.rewrap(session)
    finally:
        await runtime.dispose()


def main() -> None:
    app()()
