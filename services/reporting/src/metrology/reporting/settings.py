"""Settings of the reporting service (REPORTING_* in the environment, then the shared names)."""

from metrology.servicekit.settings import ServiceSettings


class ReportingSettings(ServiceSettings):
    http_port: int = 8005
