"""Progress on the plan's tasks: record it (an event in reporting's own store, then the task view) and read the
tasks as of a date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.eventkit.errors import NotFoundError, RuleViolationError
from metrology.eventkit.ids import new_id
from metrology.eventkit.unit_of_work import UnitOfWork
from metrology.reporting.adapters.tasks import task_progress
from metrology.reporting.domain.events import EvidenceDocument, TaskProgressRecorded
from metrology.reporting.domain.plan import Plan
from metrology.reporting.domain.tasks import Evidence, Progress, Task, TaskStatus, TaskView, task_view


@dataclass(frozen=True, slots=True)
class RecordProgress:
    on: date
    done: str
    status: TaskStatus
    budget_spent: float = 0.0
    activity_id: str | None = None
    evidence: tuple[Evidence, ...] = ()


def tasks_of(plan: Plan) -> tuple[Task, ...]:
    return plan.tasks


def task_named(plan: Plan, task_id: str) -> Task:
    task = next((t for t in tasks_of(plan) if t.id == task_id), None)
    if task is None:
        raise NotFoundError(f"plan {plan.id} has no task '{task_id}'", field="task_id", rule="task-unknown")
    return task


def task_stream(plan: Plan, task: Task) -> str:
    return f"task-{plan.id}-{task.id}"


async def record_progress(
    uow: UnitOfWork, plan: Plan, task_id: str, command: RecordProgress, today: date
) -> TaskProgressRecorded:
    task = task_named(plan, task_id)
    if command.on > today:
        raise RuleViolationError(
            f"progress cannot be dated in the future ({command.on.isoformat()})", field="on", rule="progress-in-future"
        )
    if command.activity_id is not None and task.activity(command.activity_id) is None:
        raise RuleViolationError(
            f"task {task.id} has no activity '{command.activity_id}'", field="activity_id", rule="activity-unknown"
        )
    event = TaskProgressRecorded(
        occurred_on=command.on,
        progress_id=new_id(),
        plan_id=plan.id,
        task_id=task.id,
        activity_id=command.activity_id,
        done=command.done,
        budget_spent=command.budget_spent,
        status=command.status.value,
        evidence=[EvidenceDocument(title=e.title, url=e.url) for e in command.evidence],
    )
    await uow.append(task_stream(plan, task), None, [event])
    await uow.session.execute(
        sa.insert(task_progress).values(
            progress_id=event.progress_id,
            tenant=uow.context.tenant,
            plan_id=plan.id,
            task_id=task.id,
            progress_on=command.on,
            activity_id=command.activity_id,
            done=command.done,
            budget_spent=command.budget_spent,
            status=command.status.value,
            evidence=[e.model_dump() for e in event.evidence],
            recorded_at=datetime.now(UTC),
        )
    )
    return event


async def task_views(connection: AsyncConnection, plan: Plan, as_of: date, since: date | None = None) -> list[TaskView]:
    """Every task of the plan on `as_of` (the work and spending since `since`, when given), in the plan's order."""
    t = task_progress
    query = (
        sa.select(t)
        .where(t.c.tenant == plan.tenant, t.c.plan_id == plan.id, t.c.progress_on <= as_of)
        .order_by(t.c.progress_on, t.c.recorded_at)
    )
    records: dict[str, list[Progress]] = {}
    for row in await connection.execute(query):
        records.setdefault(row.task_id, []).append(
            Progress(
                progress_id=row.progress_id,
                on=row.progress_on,
                done=row.done,
                status=TaskStatus(row.status),
                budget_spent=row.budget_spent,
                activity_id=row.activity_id,
                evidence=tuple(Evidence(e["title"], e["url"]) for e in row.evidence),
            )
        )
    return [task_view(task, records.get(task.id, []), as_of, since) for task in tasks_of(plan)]
