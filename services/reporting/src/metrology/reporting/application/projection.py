"""The KPI projection: folds the other services' events into reporting's read model."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.events import DomainEvent, EventRegistry
from metrology.reporting.adapters.readmodel import completions, metadata
from metrology.reporting.domain.consumed import TraineeCompleted


class KpiProjection:
    name = "reporting.kpis"

    def __init__(self, registry: EventRegistry) -> None:
        self.registry = registry

    async def apply(self, session: AsyncSession, envelope: Envelope, event: DomainEvent) -> None:
        match event:
            case TraineeCompleted():
                await session.execute(
                    sa.insert(completions).values(
                        tenant=envelope.tenant,
                        course_id=event.course_id,
                        trainee_id=event.trainee_id,
                        completed_on=event.occurred_on,
                        passed=event.passed,
                    )
                )

    async def reset(self, session: AsyncSession) -> None:
        for table in reversed(metadata.sorted_tables):
            await session.execute(sa.delete(table))
