"""The plan's tasks beside its targets: what the province undertakes each year, with activities, a responsible
unit and a planned budget (in the plan file), and the progress recorded against them (events).

A task's view on a date folds its progress records up to that date: the activities done, the budget spent, the
latest status and every evidence document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class TaskStatus(StrEnum):
    NOT_STARTED = "not-started"
    IN_PROGRESS = "in-progress"
    DONE = "done"
    DELAYED = "delayed"
    CANCELLED = "cancelled"


class Title(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class Activity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: Title


class Task(BaseModel):
    """One task of the plan: `budget_planned` in million VND (triệu đồng) over the task's years."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: Title
    responsible_unit: Title
    activities: tuple[Activity, ...] = ()
    budget_planned: float = Field(0, ge=0)
    years: tuple[int, int] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Task:
        ids = [activity.id for activity in self.activities]
        if len(ids) != len(set(ids)):
            raise ValueError(f"activity ids must be unique within task {self.id}")
        if self.years is not None and self.years[1] < self.years[0]:
            raise ValueError("the task's last year is before its first")
        return self

    def activity(self, activity_id: str) -> Activity | None:
        return next((a for a in self.activities if a.id == activity_id), None)


def check_unique(tasks: Iterable[Task]) -> None:
    ids = [task.id for task in tasks]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"task ids must be unique: {', '.join(duplicates)}")


@dataclass(frozen=True, slots=True)
class Evidence:
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class Progress:
    """One progress record as folded: what was done on a date, what it cost, the status it left the task in."""

    progress_id: str
    on: date
    done: str
    status: TaskStatus
    budget_spent: float = 0.0
    activity_id: str | None = None
    evidence: tuple[Evidence, ...] = ()


@dataclass(slots=True)
class TaskView:
    task: Task
    status: TaskStatus = TaskStatus.NOT_STARTED
    budget_spent: float = 0.0
    activities_done: list[str] = field(default_factory=list)
    progress: list[Progress] = field(default_factory=list)

    @property
    def evidence(self) -> list[Evidence]:
        return [e for p in self.progress for e in p.evidence]

    @property
    def budget_share(self) -> float | None:
        return round(self.budget_spent / self.task.budget_planned, 4) if self.task.budget_planned else None


def task_view(task: Task, records: Iterable[Progress], as_of: date, since: date | None = None) -> TaskView:
    """The task on `as_of`: the latest status up to then; spending and work done since `since` (all when None)."""
    view = TaskView(task)
    for record in sorted((r for r in records if r.on <= as_of), key=lambda r: r.on):
        view.status = record.status
        if since is not None and record.on < since:
            continue
        view.progress.append(record)
        view.budget_spent += record.budget_spent
        if record.activity_id and record.activity_id not in view.activities_done:
            view.activities_done.append(record.activity_id)
    view.budget_spent = round(view.budget_spent, 3)
    return view
