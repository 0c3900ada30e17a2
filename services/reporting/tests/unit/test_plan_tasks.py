"""The plan's tasks: read from the plan file beside the targets, folded from progress records into a task view."""

from __future__ import annotations

from datetime import date

import pytest

from metrology.reporting.adapters.plan_files import PlanFileError, default_plan, load_plan_text
from metrology.reporting.domain.tasks import Evidence, Progress, TaskStatus, task_view

TASKS = """
tasks:
  - id: communication
    title: {vi: "Thông tin, tuyên truyền", en: "Communication"}
    responsible_unit: {vi: "Sở Khoa học và Công nghệ", en: "Department of Science and Technology"}
    activities:
      - id: media
        title: {vi: "Tin bài", en: "Articles"}
    budget_planned: 200
"""


def plan_text(tasks: str) -> str:
    return (
        "id: p\ntenant: '83'\ntitle: {vi: 'Kế hoạch', en: Plan}\ntargets:\n"
        "  - {id: t, title: {vi: 'Chỉ tiêu', en: Target}, metric: enterprise-times, comparison: '>=', threshold: 1,"
        " deadline: 2025-12-31, window: {from: 2025-01-01, to: 2025-12-31}}\n" + tasks
    )


def test_the_shipped_plan_lists_its_seven_tasks_with_vietnamese_titles():
    plan = default_plan()

    assert [task.id for task in plan.tasks] == [
        "state-inspection",
        "legal-review",
        "socialisation-support",
        "research",
        "standards-investment",
        "cooperation",
        "communication",
    ]
    assert plan.tasks[0].title.vi == "Kiểm tra nhà nước về đo lường"
    assert all(task.responsible_unit.vi and task.activities for task in plan.tasks)


def test_a_plan_file_reads_tasks_and_refuses_a_task_named_twice():
    assert load_plan_text(plan_text(TASKS), "p.yaml").tasks[0].budget_planned == 200
    with pytest.raises(PlanFileError, match="task ids must be unique: communication"):
        load_plan_text(plan_text(TASKS + TASKS.replace("tasks:\n", "")), "p.yaml")


def test_a_task_without_progress_has_not_started():
    view = task_view(default_plan().tasks[0], [], date(2025, 12, 31))

    assert (view.status, view.budget_spent, view.activities_done) == (TaskStatus.NOT_STARTED, 0, [])


def progress(on: str, status: TaskStatus, spent: float, activity: str | None = None) -> Progress:
    return Progress(f"p-{on}", date.fromisoformat(on), "work", status, spent, activity, (Evidence("QĐ 1", "u"),))


def test_a_task_view_takes_the_latest_status_and_adds_up_the_spending_up_to_its_date():
    task = default_plan().tasks[0]
    records = [
        progress("2025-07-01", TaskStatus.DONE, 20, "markets"),
        progress("2025-03-01", TaskStatus.IN_PROGRESS, 10.5, "fuel-stations"),
        progress("2026-01-10", TaskStatus.DELAYED, 99),
    ]

    view = task_view(task, records, date(2025, 12, 31))

    assert view.status is TaskStatus.DONE
    assert view.budget_spent == 30.5
    assert view.activities_done == ["fuel-stations", "markets"]
    assert len(view.evidence) == 2


def test_a_years_view_counts_the_work_of_the_year_and_keeps_the_status_carried_into_it():
    task = default_plan().tasks[0]
    records = [progress("2024-05-01", TaskStatus.IN_PROGRESS, 50, "markets")]

    view = task_view(task, records, date(2025, 12, 31), since=date(2025, 1, 1))

    assert (view.status, view.budget_spent, view.progress) == (TaskStatus.IN_PROGRESS, 0, [])
