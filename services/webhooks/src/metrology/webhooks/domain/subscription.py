"""The Subscription aggregate: a receiver's URL, the event types it wants, its secret and whether it is active.

Rules: the target is an absolute http(s) URL; event types are chosen from the platform's published types (at least
one, no repeats); a deleted subscription takes no more commands; pausing a paused one, or resuming an active one,
is refused.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from urllib.parse import urlsplit

from metrology.eventkit.aggregate import Aggregate
from metrology.eventkit.errors import ConflictError, RuleViolationError
from metrology.eventkit.events import DomainEvent
from metrology.webhooks.domain.catalogue import PUBLISHED_TYPES
from metrology.webhooks.domain.events import (
    PauseReason,
    SecretRotated,
    SubscriptionCreated,
    SubscriptionDeleted,
    SubscriptionPaused,
    SubscriptionResumed,
)

Status = Literal["active", "paused", "deleted"]
MAX_EVENT_TYPES = 100


class Subscription(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.subscription_id = ""
        self.status: Status = "active"
        self.secret_id = ""
        self.pause_reason: PauseReason | None = None

    def when(self, event: DomainEvent) -> None:
        match event:
            case SubscriptionCreated():
                self.subscription_id, self.secret_id = event.subscription_id, event.secret_id
            case SubscriptionPaused():
                self.status, self.pause_reason = "paused", event.reason
            case SubscriptionResumed():
                self.status, self.pause_reason = "active", None
            case SubscriptionDeleted():
                self.status = "deleted"
            case SecretRotated():
                self.secret_id = event.secret_id

    def create(self, event: SubscriptionCreated) -> None:
        if self.exists:
            raise ConflictError(f"subscription {event.subscription_id} exists", rule="subscription-exists")
        check_target_url(event.target_url)
        check_event_types(event.event_types)
        self.record(event)

    def pause(self, on: date, reason: PauseReason = "paused-by-admin") -> None:
        self.require_not_deleted()
        if self.status == "paused":
            raise ConflictError("the subscription is already paused", rule="subscription-paused")
        self.record(SubscriptionPaused(occurred_on=on, subscription_id=self.subscription_id, reason=reason))

    def resume(self, on: date) -> None:
        self.require_not_deleted()
        if self.status == "active":
            raise ConflictError("the subscription is already active", rule="subscription-active")
        self.record(SubscriptionResumed(occurred_on=on, subscription_id=self.subscription_id))

    def delete(self, on: date) -> None:
        self.require_not_deleted()
        self.record(SubscriptionDeleted(occurred_on=on, subscription_id=self.subscription_id))

    def rotate_secret(self, on: date, secret_id: str, previous_valid_until: datetime) -> None:
        self.require_not_deleted()
        self.record(
            SecretRotated(
                occurred_on=on,
                subscription_id=self.subscription_id,
                secret_id=secret_id,
                previous_secret_id=self.secret_id,
                previous_valid_until=previous_valid_until.isoformat(),
            )
        )

    def require_not_deleted(self) -> None:
        if self.status == "deleted":
            raise ConflictError("the subscription was deleted", rule="subscription-deleted")


def check_target_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise RuleViolationError(
            "the target must be an absolute http or https URL", field="target_url", rule="target-url"
        )
    if parts.username or parts.password:
        raise RuleViolationError(
            "credentials do not belong in the target URL (deliveries are signed)", field="target_url", rule="target-url"
        )
    if parts.fragment:
        raise RuleViolationError("the target URL takes no #fragment", field="target_url", rule="target-url")


def check_event_types(event_types: list[str]) -> None:
    if not event_types:
        raise RuleViolationError("choose at least one event type", field="event_types", rule="event-types")
    if len(event_types) > MAX_EVENT_TYPES:
        raise RuleViolationError(f"at most {MAX_EVENT_TYPES} event types", field="event_types", rule="event-types")
    if len(set(event_types)) != len(event_types):
        raise RuleViolationError("an event type is named twice", field="event_types", rule="event-types")
    unknown = sorted(set(event_types) - PUBLISHED_TYPES)
    if unknown:
        raise RuleViolationError(
            f"not published by the platform: {', '.join(unknown)} (see GET /event-types)",
            field="event_types",
            rule="event-type-unknown",
        )
