"""The access saga: verification work for an enrolled enterprise's instrument or standard, or a service to an
enrolled enterprise (calibration, testing, a measurement method, a consultation), records an access.

The programme's rule is the same for both: the enterprise takes part on the date of the work. A service to an
enterprise outside the programme on that date records nothing here (verification keeps the service itself).

It runs as a projection on the verification topic. The kit's tracking table drops a redelivered event (same id)
in the same transaction; the access itself is keyed by job (or service) id, so a corrected job or an event
re-sent under a new id still counts once. The access event is appended to outreach's own store inside the projector's
transaction, and the relay is woken after commit.
"""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from metrology.eventkit.database import DatabaseSession
from metrology.eventkit.envelope import Envelope, EventContext
from metrology.eventkit.events import DomainEvent, EventRegistry
from metrology.eventkit.relay import CommitSignal
from metrology.eventkit.store import EventStore
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.outreach.application import handlers
from metrology.outreach.application.replica import owner_of
from metrology.outreach.domain.consumed import (
    SERVICE_CHANNELS,
    EnterpriseServiceRecorded,
    WorkRecorded,
    verification_events,
)
from metrology.outreach.domain.events import CHANNELS, Channel

SAGA_ACTOR = "outreach.access-saga"


class AccessSaga:
    name = "outreach.access-saga"

    def __init__(self, store: EventStore, own_events: EventRegistry, signal: CommitSignal) -> None:
        self.registry = verification_events()
        self.store = store
        self.own_events = own_events
        self.signal = signal

    async def apply(self, session: AsyncSession, envelope: Envelope, event: DomainEvent) -> None:
        job = await self._job_of(session, envelope, event)
        if job is None:
            return
        context = EventContext(tenant=envelope.tenant, actor=SAGA_ACTOR).caused_by(envelope)
        unit = UnitOfWork.joining(session, self.store, self.own_events, context)
        if await handlers.record_access_for_job(unit, job) is not None:
            self._wake_relay_after_commit(session)

    async def _job_of(
        self, session: DatabaseSession, envelope: Envelope, event: DomainEvent
    ) -> handlers.JobPerformed | None:
        """The work as the saga counts it: whose enterprise it served, when, through which channel."""
        if isinstance(event, EnterpriseServiceRecorded):
            return handlers.JobPerformed(
                tenant=envelope.tenant,
                job_id=event.service_id,
                kind=cast(Channel, SERVICE_CHANNELS.get(event.kind, "consultation")),
                performed_on=event.occurred_on,
                enterprise_id=event.enterprise_id,
            )
        if not isinstance(event, WorkRecorded) or event.kind not in CHANNELS:
            return None
        enterprise_id = event.owner_enterprise_id or await owner_of(session, envelope.tenant, event.subject_id)
        if enterprise_id is None:
            return None
        return handlers.JobPerformed(
            tenant=envelope.tenant,
            job_id=event.job_id,
            kind=cast(Channel, event.kind),
            performed_on=event.occurred_on,
            enterprise_id=enterprise_id,
        )

    async def after_batch(self, session: DatabaseSession) -> None:
        """Everything is written in `apply`."""

    async def reset(self, session: DatabaseSession) -> None:
        """Accesses are outreach's own facts: a replay re-reads jobs, and the job key keeps them counted once."""

    def _wake_relay_after_commit(self, session: AsyncSession) -> None:
        sa.event.listen(session.sync_session, "after_commit", self._notify, once=True)

    def _notify(self, _session: object) -> None:
        self.signal.notify()
