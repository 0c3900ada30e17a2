"""The chaos table, on the console (rich) and as markdown for docs/reliability.md, and the raw numbers as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from chaos.checks import Findings
from chaos.faults import FaultResult


@dataclass
class Summary:
    mode: str
    started: str
    duration: float
    cohorts: int
    faults: list[FaultResult]
    sent: int
    acknowledged: int
    findings: Findings
    errors_seen: dict[str, int]
    server_errors: list[str]
    notes: list[str]
    machine: dict[str, Any] = field(default_factory=dict)

    @property
    def injected(self) -> int:
        return sum(1 for f in self.faults if not f.note.startswith("not injected"))

    @property
    def max_recovery(self) -> float | None:
        times = [f.recovery for f in self.faults if f.recovery is not None]
        return max(times) if times and all(f.recovery is not None for f in self.faults) else None

    def headline(self) -> dict[str, Any]:
        recovery = self.max_recovery
        return {
            "faults injected": self.injected,
            "commands sent": self.sent,
            "acknowledged": self.acknowledged,
            "lost": len(self.findings.lost),
            "double-counted": len(self.findings.doubled),
            "max recovery (s)": f"{recovery:.1f}" if recovery is not None else "not recovered",
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self) | {"headline": self.headline()}, indent=2, default=str)


def started_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def show(summary: Summary, console: Console | None = None) -> None:
    console = console or Console()
    headline = Table(title=f"chaos ({summary.mode}, {summary.cohorts} cohorts of the scripted years)")
    for column in summary.headline():
        headline.add_column(column, justify="right")
    headline.add_row(*(str(v) for v in summary.headline().values()))
    console.print(headline)
    faults = Table(title="faults in turn")
    for column in ("at (s)", "fault", "recovery (s)", "note"):
        faults.add_column(column)
    for f in summary.faults:
        faults.add_row(f"{f.at:.0f}", f.fault, _seconds(f.recovery), f.note)
    console.print(faults)
    for title, lines in _lists(summary):
        if lines:
            console.print(f"[bold]{title}[/bold] ({len(lines)})")
            for line in lines[:30]:
                console.print(f"  {line}", markup=False)


def markdown(summary: Summary) -> str:
    head = summary.headline()
    out = [
        f"Run of {summary.started}, `{summary.mode}`, {summary.cohorts} cohorts of the scripted years, "
        f"{summary.duration:.0f}s in all; {summary.machine.get('note', '')}".rstrip("; "),
        "",
        "| " + " | ".join(head) + " |",
        "|" + " ---: |" * len(head),
        "| " + " | ".join(str(v) for v in head.values()) + " |",
        "",
        "| at (s) | fault | recovery (s) | note |",
        "| ---: | --- | ---: | --- |",
        *(f"| {f.at:.0f} | {f.fault} | {_seconds(f.recovery)} | {f.note} |" for f in summary.faults),
        "",
    ]
    for title, lines in _lists(summary):
        out.append(f"- {title}: " + ("none" if not lines else f"{len(lines)}"))
        out += [f"  - `{line.splitlines()[0][:200]}`" for line in lines[:10]]
    return "\n".join(out) + "\n"


def write(summary: Summary, markdown_path: Path | None, json_path: Path | None) -> None:
    if markdown_path:
        markdown_path.parent.mkdir(parents=True, exist_ok=True)
        markdown_path.write_text(markdown(summary), encoding="utf-8")
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(summary.to_json(), encoding="utf-8")


def _lists(summary: Summary) -> list[tuple[str, list[str]]]:
    f = summary.findings
    return [
        ("acknowledged commands lost", f.lost),
        ("double-counted", f.doubled),
        ("KPIs not as scripted", f.kpi_differences),
        ("live read model unlike its rebuild from the topics", f.rebuild_differences),
        ("facts the load could not perform", f.failed_facts),
        ("HTTP 500 answers (retried)", summary.server_errors),
        ("processes that exited by themselves", summary.notes),
        ("errors the clients saw and retried", [f"{k}: {v}" for k, v in sorted(summary.errors_seen.items())]),
    ]


def _seconds(value: float | None) -> str:
    return f"{value:.1f}" if value is not None else "—"
