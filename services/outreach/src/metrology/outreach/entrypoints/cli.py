"""`metrology-outreach`: the service's command line."""

from __future__ import annotations

import typer

from metrology.outreach.bootstrap import bootstrap
from metrology.outreach.settings import OutreachSettings
from metrology.servicekit.cli import service_cli


def app() -> typer.Typer:
    cli = service_cli("outreach", bootstrap, OutreachSettings)

    return cli


def main() -> None:
    app()()
