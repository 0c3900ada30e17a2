"""The yearly report as files: XLSX (a sheet of targets, a sheet of tasks) and PDF (both as tables), in Vietnamese
or English. The PDF embeds DejaVu Sans, shipped in this package, so Vietnamese renders wherever it runs."""

from __future__ import annotations

import io
from importlib import resources
from typing import Any

from fpdf import FPDF
from fpdf.fonts import FontFace
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from metrology.reporting.application.progress import TargetProgress
from metrology.reporting.application.yearly_report import Language, YearlyReport
from metrology.reporting.domain.tasks import TaskView
from metrology.servicekit.cells import neutralised

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Báo cáo kết quả thực hiện năm {year}",
        "as_of": "Số liệu tính đến ngày {day}",
        "targets": "I. Các chỉ tiêu",
        "tasks": "II. Các nhiệm vụ",
        "target": "Chỉ tiêu",
        "threshold": "Mục tiêu",
        "deadline": "Thời hạn",
        "value": "Kết quả",
        "status": "Đánh giá",
        "task": "Nhiệm vụ",
        "unit": "Đơn vị chủ trì",
        "done": "Kết quả thực hiện trong năm",
        "budget_planned": "Kinh phí kế hoạch (triệu đồng)",
        "budget_year": "Kinh phí đã chi trong năm",
        "budget_to_date": "Lũy kế đã chi",
        "evidence": "Tài liệu minh chứng",
        "nothing": "Chưa có kết quả ghi nhận trong năm",
        "sheet_targets": "Chỉ tiêu",
        "sheet_tasks": "Nhiệm vụ",
    },
    "en": {
        "title": "Yearly report {year}",
        "as_of": "Figures as of {day}",
        "targets": "I. Targets",
        "tasks": "II. Tasks",
        "target": "Target",
        "threshold": "Threshold",
        "deadline": "Deadline",
        "value": "Value",
        "status": "Status",
        "task": "Task",
        "unit": "Responsible unit",
        "done": "Done in the year",
        "budget_planned": "Budget planned (million VND)",
        "budget_year": "Spent in the year",
        "budget_to_date": "Spent to date",
        "evidence": "Evidence documents",
        "nothing": "Nothing recorded in the year",
        "sheet_targets": "Targets",
        "sheet_tasks": "Tasks",
    },
}

STATUS: dict[str, dict[str, str]] = {
    "vi": {
        "not-started": "Chưa bắt đầu",
        "on-track": "Đúng tiến độ",
        "at-risk": "Có nguy cơ không đạt",
        "met": "Đạt",
        "missed": "Không đạt",
        "in-progress": "Đang thực hiện",
        "done": "Hoàn thành",
        "delayed": "Chậm tiến độ",
        "cancelled": "Dừng thực hiện",
    },
    "en": {
        "not-started": "not started",
        "on-track": "on track",
        "at-risk": "at risk",
        "met": "met",
        "missed": "missed",
        "in-progress": "in progress",
        "done": "done",
        "delayed": "delayed",
        "cancelled": "cancelled",
    },
}


def _figure(result: TargetProgress, value: float) -> str:
    if result.target.metric.is_share:
        return f"{value * 100:.1f} %"
    return f"{value:g}"


def target_row(result: TargetProgress, lang: Language) -> list[str]:
    t = result.target
    return [
        getattr(t.title, lang.value),
        f"{t.comparison.value} {_figure(result, t.threshold)}",
        t.deadline.isoformat(),
        _figure(result, result.reading.value),
        STATUS[lang.value].get(result.status.value, result.status.value),
    ]


def _done(view: TaskView, lang: Language) -> str:
    lines = []
    for record in view.progress:
        activity = view.task.activity(record.activity_id) if record.activity_id else None
        named = f"{getattr(activity.title, lang.value)}: " if activity else ""
        lines.append(f"{record.on.isoformat()} — {named}{record.done}")
    return "\n".join(lines) or LABELS[lang.value]["nothing"]


def task_row(view: TaskView, to_date: TaskView, lang: Language) -> list[str]:
    task = view.task
    evidence = "\n".join(f"{e.title} <{e.url}>" for e in view.evidence)
    return [
        getattr(task.title, lang.value),
        getattr(task.responsible_unit, lang.value),
        STATUS[lang.value].get(view.status.value, view.status.value),
        _done(view, lang),
        f"{task.budget_planned:g}",
        f"{view.budget_spent:g}",
        f"{to_date.budget_spent:g}",
        evidence,
    ]


def _headers(lang: Language) -> tuple[list[str], list[str]]:
    label = LABELS[lang.value]
    targets = [label[k] for k in ("target", "threshold", "deadline", "value", "status")]
    tasks = [
        label[k]
        for k in ("task", "unit", "status", "done", "budget_planned", "budget_year", "budget_to_date", "evidence")
    ]
    return targets, tasks


def _title(report: YearlyReport, lang: Language) -> tuple[str, str, str]:
    label = LABELS[lang.value]
    return (
        label["title"].format(year=report.year),
        getattr(report.plan.title, lang.value),
        label["as_of"].format(day=report.as_of.isoformat()) + _known(report, lang),
    )


def _known(report: YearlyReport, lang: Language) -> str:
    """The recording time the figures answer for, when the report was asked as known on one."""
    if report.known_at is None:
        return ""
    known = report.known_at.isoformat(timespec="seconds")
    return f" — theo dữ liệu ghi nhận đến {known}" if lang is Language.VI else f" — as known on {known}"


def render_xlsx(report: YearlyReport, lang: Language) -> bytes:
    label = LABELS[lang.value]
    target_header, task_header = _headers(lang)
    book = Workbook()
    targets = book.active
    assert targets is not None
    targets.title = label["sheet_targets"]
    for line in _title(report, lang):
        targets.append(neutralised([line]))
    targets.append(target_header)
    for result in report.targets:
        targets.append(neutralised(target_row(result, lang)))
    tasks = book.create_sheet(label["sheet_tasks"])
    tasks.append(neutralised([_title(report, lang)[0]]))
    tasks.append(task_header)
    for view, to_date in report.rows:
        tasks.append(neutralised(task_row(view, to_date, lang)))
    for sheet, header_row in ((targets, 4), (tasks, 2)):
        for cell in sheet[header_row]:
            cell.font = Font(bold=True)
        for row in sheet.iter_rows(min_row=header_row + 1):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


FONT = "DejaVu"


def _pdf() -> FPDF:
    pdf = FPDF(orientation="landscape", format="A4")
    fonts = resources.files("metrology.reporting").joinpath("fonts")
    for style, name in (("", "DejaVuSans.ttf"), ("B", "DejaVuSans-Bold.ttf")):
        with resources.as_file(fonts.joinpath(name)) as path:
            pdf.add_font(FONT, style, str(path))
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    return pdf


def _table(pdf: FPDF, header: list[str], rows: list[list[str]], widths: tuple[int, ...]) -> None:
    pdf.set_font(FONT, size=8)
    heading: Any = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
    with pdf.table(col_widths=widths, text_align="LEFT", headings_style=heading, line_height=4.5) as table:
        for cells in [header, *rows]:
            row = table.row()
            for cell in cells:
                row.cell(cell)


def render_pdf(report: YearlyReport, lang: Language) -> bytes:
    label = LABELS[lang.value]
    target_header, task_header = _headers(lang)
    title, plan_title, as_of = _title(report, lang)
    pdf = _pdf()
    pdf.set_title(f"{title} — {plan_title}")
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font(FONT, "", 11)
    pdf.multi_cell(0, 6, plan_title, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.multi_cell(0, 6, as_of, new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.ln(3)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 8, label["targets"], new_x="LMARGIN", new_y="NEXT")
    _table(pdf, target_header, [target_row(r, lang) for r in report.targets], (110, 30, 30, 30, 40))
    pdf.ln(4)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 8, label["tasks"], new_x="LMARGIN", new_y="NEXT")
    rows = [task_row(view, to_date, lang) for view, to_date in report.rows]
    _table(pdf, task_header, rows, (45, 40, 25, 70, 22, 20, 20, 35))
    return bytes(pdf.output())
