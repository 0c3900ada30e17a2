"""Queries over the bridge's tables, always within the caller's tenant."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.eventkit.errors import NotFoundError
from metrology.webhooks.adapters.tables import dead_letters, delivery_offsets, subscriptions


@dataclass(frozen=True, slots=True)
class Page:
    limit: int = 50
    offset: int = 0


async def subscriptions_page(connection: AsyncConnection, tenant: str, page: Page) -> dict[str, Any]:
    where = (subscriptions.c.tenant == tenant) & (subscriptions.c.status != "deleted")
    total = (await connection.execute(sa.select(sa.func.count()).select_from(subscriptions).where(where))).scalar_one()
    rows = await connection.execute(
        sa.select(subscriptions).where(where).order_by(subscriptions.c.created_at).limit(page.limit).offset(page.offset)
    )
    return {"items": [dict(row._mapping) for row in rows], "total": total, "limit": page.limit, "offset": page.offset}


async def subscription(connection: AsyncConnection, tenant: str, subscription_id: str) -> dict[str, Any]:
    row = (
        await connection.execute(sa.select(subscriptions).where(subscriptions.c.subscription_id == subscription_id))
    ).first()
    if row is None or row.tenant != tenant:
        raise NotFoundError(f"no subscription {subscription_id}", field="subscription_id", rule="subscription-unknown")
    offsets = await connection.execute(
        sa.select(delivery_offsets)
        .where(delivery_offsets.c.subscription_id == subscription_id)
        .order_by(delivery_offsets.c.topic, delivery_offsets.c.partition)
    )
    found = dict(row._mapping)
    found["offsets"] = [{"topic": o.topic, "partition": o.partition, "next_offset": o.next_offset} for o in offsets]
    return found


async def dead_letters_page(
    connection: AsyncConnection, tenant: str, subscription_id: str, page: Page, state: str | None
) -> dict[str, Any]:
    await subscription(connection, tenant, subscription_id)
    where = dead_letters.c.subscription_id == subscription_id
    if state:
        where &= dead_letters.c.state == state
    total = (await connection.execute(sa.select(sa.func.count()).select_from(dead_letters).where(where))).scalar_one()
    rows = await connection.execute(
        sa.select(dead_letters)
        .where(where)
        .order_by(dead_letters.c.dead_lettered_at, dead_letters.c.offset)
        .limit(page.limit)
        .offset(page.offset)
    )
    return {"items": [_dead_letter(row) for row in rows], "total": total, "limit": page.limit, "offset": page.offset}


def _dead_letter(row: sa.Row) -> dict[str, Any]:
    item = {k: v for k, v in row._mapping.items() if k != "body"}
    try:
        item["event"] = json.loads(row.body)
    except ValueError:
        item["event_base64"] = base64.b64encode(row.body).decode()
    return item
