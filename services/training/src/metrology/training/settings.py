"""Settings of the training service (TRAINING_* in the environment, then the shared names)."""

from metrology.servicekit.settings import ServiceSettings


class TrainingSettings(ServiceSettings):
    http_port: int = 8004
