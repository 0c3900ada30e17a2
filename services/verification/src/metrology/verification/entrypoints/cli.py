"""`metrology-verification`: the service's command line (the kit's commands plus `demo-data` and `sweep-due`)."""

from __future__ import annotations

from typing import Annotated

import typer

from metrology.eventkit import event_loop
from metrology.servicekit.cli import service_cli
from metrology.servicekit.command_settings import migrate_or_exit, settings_from_env
from metrology.servicekit.http_commands import http_failures_in_one_line
from metrology.verification.bootstrap import bootstrap
from metrology.verification.settings import VerificationSettings


def app() -> typer.Typer:
    cli = service_cli("verification", bootstrap, VerificationSettings)

    @cli.command("demo-data")
    def demo_data(
        url: Annotated[str, typer.Option(help="base URL of the verification service")] = "http://127.0.0.1:8002",
        token: Annotated[str, typer.Option(help="a province-admin bearer token")] = "",
        registry_url: Annotated[
            str, typer.Option(help="base URL of the registry service (to read its demo instruments)")
        ] = "http://127.0.0.1:8001",
        seed: Annotated[int, typer.Option()] = 996,
    ) -> None:
        """Record a realistic 2024-2026 history of verifications for the registry's demo data (idempotent)."""
        from metrology.verification.demo import load_demo_history

        with http_failures_in_one_line("verification", "demo-data"):
            summary = load_demo_history(url, token, registry_url=registry_url, seed=seed)
        typer.echo(" ".join(f"{key}={value}" for key, value in summary.items()))

    @cli.command("sweep-due")
    def sweep_due(
        on: Annotated[
            str | None, typer.Option(help="the day of the sweep (YYYY-MM-DD, default today): due dates before it")
        ] = None,
    ) -> None:
        """Raise instrument-fell-overdue for every instrument in use past its due date (once per due date)."""
        from datetime import date

        from metrology.verification.application.overdue import sweep_due as sweep

        day = date.fromisoformat(on) if on else date.today()
        runtime = bootstrap(settings_from_env(VerificationSettings, "verification"))

        async def run() -> None:
            try:
                await migrate_or_exit(runtime)
                result = await sweep(runtime, day)
            finally:
                await runtime.dispose()
            already = f"{result.already_raised} already raised"
            typer.echo(f"verification: {result.raised} instruments fell overdue before {day} ({already})")

        event_loop.run(run())

    return cli


def main() -> None:
    app()()
