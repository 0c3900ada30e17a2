"""`metrology-training`: the service's command line."""

from metrology.servicekit.cli import service_cli
from metrology.training.bootstrap import bootstrap
from metrology.training.settings import TrainingSettings


def main() -> None:
    service_cli("training", bootstrap, TrainingSettings)()
