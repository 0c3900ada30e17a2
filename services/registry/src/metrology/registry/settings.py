"""Settings of the registry service (REGISTRY_* in the environment, then the shared names)."""

from metrology.servicekit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    http_port: int = 8001
