"""Events of the webhook bridge: the life of a subscription (stream `subscription-<id>`).

Secrets never travel in events: they stay in the service's own database, and an event names only the secret's id.
"""

from __future__ import annotations

from typing import Literal

from metrology.eventkit.events import DomainEvent, EventRegistry

PauseReason = Literal["paused-by-admin", "receiver-gone"]


class SubscriptionCreated(DomainEvent):
    """A province admin subscribed a receiver (target URL) to some of the platform's event types."""

    event_type = "vn.metrology.webhooks.subscription-created"

    subscription_id: str
    target_url: str
    event_types: list[str]
    description: str | None = None
    start_from: Literal["creation", "earliest"] = "creation"
    secret_id: str


class SubscriptionPaused(DomainEvent):
    """Deliveries stop (the subscription keeps its offsets); `receiver-gone` when the receiver answered 410 Gone."""

    event_type = "vn.metrology.webhooks.subscription-paused"

    subscription_id: str
    reason: PauseReason


class SubscriptionResumed(DomainEvent):
    """Deliveries go on from where they stopped."""

    event_type = "vn.metrology.webhooks.subscription-resumed"

    subscription_id: str


class SubscriptionDeleted(DomainEvent):
    """The subscription is gone for good: nothing more is delivered."""

    event_type = "vn.metrology.webhooks.subscription-deleted"

    subscription_id: str


class SecretRotated(DomainEvent):
    """A new signing secret; the previous one still signs beside it until `previous_valid_until`."""

    event_type = "vn.metrology.webhooks.secret-rotated"

    subscription_id: str
    secret_id: str
    previous_secret_id: str
    previous_valid_until: str


PUBLISHED: list[type[DomainEvent]] = [
    SubscriptionCreated,
    SubscriptionPaused,
    SubscriptionResumed,
    SubscriptionDeleted,
    SecretRotated,
]


def registry() -> EventRegistry:
    return EventRegistry().register_all(PUBLISHED)
