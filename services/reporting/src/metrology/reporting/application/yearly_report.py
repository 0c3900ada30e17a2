"""The yearly report the province sends the ministry: the plan's targets with their values and status at the
year's end, and its tasks with what was done in the year, the budget spent and the evidence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from metrology.reporting.application.progress import TargetProgress, plan_progress
from metrology.reporting.application.tasks import task_views
from metrology.reporting.domain.plan import Plan
from metrology.reporting.domain.tasks import TaskView


class Language(StrEnum):
    VI = "vi"
    EN = "en"


@dataclass(frozen=True, slots=True)
class YearlyReport:
    plan: Plan
    year: int
    as_of: date
    targets: list[TargetProgress]
    tasks: list[TaskView]  # the work and spending of the year, the status at its end
    to_date: list[TaskView]  # the spending since the plan began, in the same order
    known_at: datetime | None = None  # the targets as known then (facts recorded later left out)

    @property
    def rows(self) -> list[tuple[TaskView, TaskView]]:
        return list(zip(self.tasks, self.to_date, strict=True))


async def yearly_report(
    connection: AsyncConnection, plan: Plan, year: int, known_at: datetime | None = None
) -> YearlyReport:
    """`known_at` makes the report as it could be made then: the targets count only the facts recorded by then
    (the tasks' progress is read as recorded now)."""
    as_of = date(year, 12, 31)
    targets = await plan_progress(connection, plan, as_of, breakdowns=False, known_at=known_at)
    in_year = await task_views(connection, plan, as_of, since=date(year, 1, 1))
    to_date = await task_views(connection, plan, as_of)
    return YearlyReport(plan, year, as_of, targets, in_year, to_date, known_at)
