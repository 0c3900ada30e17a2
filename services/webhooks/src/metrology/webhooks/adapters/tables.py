"""Tables the bridge keeps beside its events: subscriptions (query table), their secrets (never published),
per-subscription offsets in each topic partition, and each subscription's dead letters."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("subscription_id", sa.String(64), primary_key=True),
    sa.Column("tenant", sa.String(16), nullable=False, index=True),
    sa.Column("target_url", sa.String(2000), nullable=False),
    sa.Column("event_types", sa.JSON, nullable=False),
    sa.Column("description", sa.String(500), nullable=True),
    sa.Column("start_from", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("pause_reason", sa.String(32), nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("delivered", sa.BigInteger, nullable=False, default=0),
    sa.Column("dead_lettered", sa.BigInteger, nullable=False, default=0),
    sa.Column("last_delivered_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
)

subscription_secrets = sa.Table(
    "subscription_secrets",
    metadata,
    sa.Column("secret_id", sa.String(64), primary_key=True),
    sa.Column("subscription_id", sa.String(64), nullable=False, index=True),
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
)

delivery_offsets = sa.Table(
    "delivery_offsets",
    metadata,
    sa.Column("subscription_id", sa.String(64), primary_key=True),
    sa.Column("topic", sa.String(249), primary_key=True),
    sa.Column("partition", sa.Integer, primary_key=True),
    sa.Column("next_offset", sa.BigInteger, nullable=False),
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("dead_letter_id", sa.String(64), primary_key=True),
    sa.Column("subscription_id", sa.String(64), nullable=False, index=True),
    sa.Column("topic", sa.String(249), nullable=False),
    sa.Column("partition", sa.Integer, nullable=False),
    sa.Column("offset", sa.BigInteger, nullable=False),
    sa.Column("event_id", sa.String(64), nullable=False),
    sa.Column("event_type", sa.String(200), nullable=False),
    sa.Column("stream_id", sa.String(200), nullable=False),
    sa.Column("body", sa.LargeBinary, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("state", sa.String(16), nullable=False),  # dead | queued (for redelivery) | redelivered
    sa.Column("dead_lettered_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("redelivered_at", sa.DateTime(timezone=True), nullable=True),
)
