"""Settings of the inspection service (INSPECTION_* in the environment, then the shared names)."""

from metrology.servicekit.settings import ServiceSettings


class InspectionSettings(ServiceSettings):
    http_port: int = 8007
