"""`metrology-reporting`: the service's command line."""

from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.cli import service_cli


def main() -> None:
    service_cli("reporting", bootstrap, ReportingSettings)()
