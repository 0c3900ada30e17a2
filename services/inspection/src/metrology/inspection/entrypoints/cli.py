"""`metrology-inspection`: the service's command line."""

from __future__ import annotations

import typer

from metrology.inspection.bootstrap import bootstrap
from metrology.inspection.settings import InspectionSettings
from metrology.servicekit.cli import service_cli


def app() -> typer.Typer:
    return service_cli("inspection", bootstrap, InspectionSettings)


def main() -> None:
    app()()
