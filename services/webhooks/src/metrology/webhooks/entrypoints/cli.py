"""`metrology-webhooks`: the service's command line (the delivery worker runs under `consume` or `run`)."""

from __future__ import annotations

import typer

from metrology.servicekit.cli import service_cli
from metrology.webhooks.bootstrap import bootstrap
from metrology.webhooks.settings import WebhooksSettings


def app() -> typer.Typer:
    return service_cli("webhooks", bootstrap, WebhooksSettings)


def main() -> None:
    app()()
