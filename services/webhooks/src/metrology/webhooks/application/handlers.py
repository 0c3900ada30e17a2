"""Command handlers: load the subscription, let it decide, append its events and update the tables."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import sqlalchemy as sa

from metrology.eventkit.errors import NotFoundError
from metrology.eventkit.ids import new_id
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.webhooks.adapters.tables import dead_letters, subscription_secrets, subscriptions
from metrology.webhooks.domain.events import PauseReason, SubscriptionCreated
from metrology.webhooks.domain.signing import new_secret
from metrology.webhooks.domain.subscription import Subscription

SECRET_OVERLAP = timedelta(hours=24)


@dataclass(frozen=True)
class CreateSubscription:
    target_url: str
    event_types: list[str]
    description: str | None = None
    start_from: Literal["creation", "earliest"] = "creation"


@dataclass(frozen=True)
class Created:
    subscription_id: str
    secret: str
    stream_version: int


def subscription_stream(subscription_id: str) -> str:
    return f"subscription-{subscription_id}"


def _today() -> datetime:
    return datetime.now(UTC)


async def create_subscription(uow: UnitOfWork, command: CreateSubscription) -> Created:
    subscription_id, secret_id, secret, now = new_id(), str(uuid.uuid4()), new_secret(), _today()
    event = SubscriptionCreated(
        occurred_on=now.date(),
        subscription_id=subscription_id,
        target_url=command.target_url,
        event_types=list(command.event_types),
        description=command.description,
        start_from=command.start_from,
        secret_id=secret_id,
    )
    subscription = Subscription()
    subscription.create(event)
    await uow.append(subscription_stream(subscription_id), 0, subscription.pending)
    await uow.session.execute(
        sa.insert(subscriptions).values(
            subscription_id=subscription_id,
            tenant=uow.context.tenant,
            target_url=command.target_url,
            event_types=list(command.event_types),
            description=command.description,
            start_from=command.start_from,
            status="active",
            created_at=now,
            delivered=0,
            dead_lettered=0,
        )
    )
    await _store_secret(uow, subscription_id, secret_id, secret, now)
    return Created(subscription_id, secret, 1)


async def load(uow: UnitOfWork, subscription_id: str) -> Subscription:
    """The subscription, if it exists in the caller's tenant (another tenant's is reported as missing)."""
    row = (
        await uow.session.execute(
            sa.select(subscriptions.c.tenant).where(subscriptions.c.subscription_id == subscription_id)
        )
    ).first()
    if row is None or row.tenant != uow.context.tenant:
        raise NotFoundError(f"no subscription {subscription_id}", field="subscription_id", rule="subscription-unknown")
    return Subscription.replay(await uow.history(subscription_stream(subscription_id)))


async def _save(uow: UnitOfWork, subscription: Subscription) -> Subscription:
    await uow.append(subscription_stream(subscription.subscription_id), subscription.version, subscription.pending)
    await uow.session.execute(
        sa.update(subscriptions)
        .where(subscriptions.c.subscription_id == subscription.subscription_id)
        .values(status=subscription.status, pause_reason=subscription.pause_reason)
    )
    return subscription


async def pause_subscription(
    uow: UnitOfWork, subscription_id: str, reason: PauseReason = "paused-by-admin"
) -> Subscription:
    subscription = await load(uow, subscription_id)
    subscription.pause(_today().date(), reason)
    return await _save(uow, subscription)


async def resume_subscription(uow: UnitOfWork, subscription_id: str) -> Subscription:
    subscription = await load(uow, subscription_id)
    subscription.resume(_today().date())
    return await _save(uow, subscription)


async def delete_subscription(uow: UnitOfWork, subscription_id: str) -> Subscription:
    subscription = await load(uow, subscription_id)
    subscription.delete(_today().date())
    await _save(uow, subscription)
    await uow.session.execute(
        sa.delete(subscription_secrets).where(subscription_secrets.c.subscription_id == subscription_id)
    )
    return subscription


async def rotate_secret(uow: UnitOfWork, subscription_id: str) -> Created:
    """A new secret; the previous one keeps signing beside it for `SECRET_OVERLAP`, older ones stop."""
    subscription = await load(uow, subscription_id)
    now, secret_id, secret = _today(), str(uuid.uuid4()), new_secret()
    previous_until = now + SECRET_OVERLAP
    previous = subscription.secret_id
    subscription.rotate_secret(now.date(), secret_id, previous_until)
    await _save(uow, subscription)
    await uow.session.execute(
        sa.update(subscription_secrets)
        .where(subscription_secrets.c.subscription_id == subscription_id, subscription_secrets.c.secret_id != previous)
        .values(valid_until=now)
    )
    await uow.session.execute(
        sa.update(subscription_secrets)
        .where(subscription_secrets.c.secret_id == previous)
        .values(valid_until=previous_until)
    )
    await _store_secret(uow, subscription_id, secret_id, secret, now)
    return Created(subscription_id, secret, subscription.version + len(subscription.pending))


async def _store_secret(uow: UnitOfWork, subscription_id: str, secret_id: str, secret: str, now: datetime) -> None:
    await uow.session.execute(
        sa.insert(subscription_secrets).values(
            secret_id=secret_id, subscription_id=subscription_id, secret=secret, created_at=now, valid_until=None
        )
    )


async def queue_redelivery(uow: UnitOfWork, subscription_id: str, dead_letter_id: str | None) -> int:
    """Queue one dead letter (or, with no id, all of them) for the worker to deliver again; returns how many."""
    subscription = await load(uow, subscription_id)
    subscription.require_not_deleted()
    query = sa.update(dead_letters).where(
        dead_letters.c.subscription_id == subscription_id, dead_letters.c.state == "dead"
    )
    if dead_letter_id is not None:
        query = query.where(dead_letters.c.dead_letter_id == dead_letter_id)
    result = await uow.session.execute(query.values(state="queued").returning(dead_letters.c.dead_letter_id))
    queued = len(result.all())
    if dead_letter_id is not None and not queued:
        raise NotFoundError(
            f"no dead letter {dead_letter_id} waiting in this subscription",
            field="dead_letter_id",
            rule="dead-letter-unknown",
        )
    return queued
