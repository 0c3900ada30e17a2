"""Events reporting publishes (`metrology.reporting.v1`)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from metrology.eventkit.events import DomainEvent, EventRegistry


class TargetStatusChanged(DomainEvent):
    """A plan target moved between on-track, at-risk, met and missed (occurred_on = the date it was evaluated as of)."""

    event_type = "vn.metrology.reporting.target-status-changed"
    plan_id: str
    target_id: str
    tenant: str
    previous_status: str | None
    status: str
    value: float
    forecast: float | None = None
    as_of: date


class EvidenceDocument(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    title: str
    url: str


class TaskProgressRecorded(DomainEvent):
    """Progress on one of the plan's tasks (occurred_on = the date of the work): what was done (an activity of
    the task or free text), the budget spent by it (million VND), the status it left the task in, and the
    evidence documents. Stream `task-<plan>-<task>`."""

    event_type = "vn.metrology.reporting.task-progress-recorded"
    progress_id: str
    plan_id: str
    task_id: str
    activity_id: str | None = None
    done: str
    budget_spent: float = Field(0, ge=0)
    status: Literal["not-started", "in-progress", "done", "delayed", "cancelled"]
    evidence: list[EvidenceDocument] = Field(default_factory=list)


PUBLISHED: list[type[DomainEvent]] = [TargetStatusChanged, TaskProgressRecorded]


def register_published(registry: EventRegistry) -> EventRegistry:
    return registry.register_all(PUBLISHED)
