"""Settings of the outreach service (OUTREACH_* in the environment, then the shared names)."""

from metrology.servicekit.settings import ServiceSettings


class OutreachSettings(ServiceSettings):
    http_port: int = 8003
