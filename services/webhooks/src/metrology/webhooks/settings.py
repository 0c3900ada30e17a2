"""Settings of the webhook bridge (WEBHOOKS_* in the environment, then the shared names)."""

from pydantic import Field

from metrology.servicekit.settings import ServiceSettings
from metrology.webhooks.domain.retries import RetryPolicy


class WebhooksSettings(ServiceSettings):
    http_port: int = 8006
    delivery_timeout_seconds: float = Field(10.0, description="Longest wait for a receiver's answer")
    delivery_connect_timeout_seconds: float = Field(5.0, description="Longest wait to connect to a receiver")
    retry_max_attempts: int = Field(8, ge=1, description="Attempts per event before it is dead-lettered")
    retry_base_seconds: float = Field(1.0, gt=0, description="Wait after the first failed attempt; doubles after each")
    retry_cap_seconds: float = Field(300.0, gt=0, description="Longest wait between two attempts")
    retry_jitter: float = Field(0.2, ge=0, le=1, description="Up to this share of each wait is taken off at random")
    subscription_poll_seconds: float = Field(
        2.0, gt=0, description="How often the worker looks for changed subscriptions"
    )
    delivery_batch_size: int = Field(100, ge=1, description="Records fetched per topic partition at a time")

    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.retry_max_attempts,
            base_seconds=self.retry_base_seconds,
            cap_seconds=self.retry_cap_seconds,
            jitter=self.retry_jitter,
        )
