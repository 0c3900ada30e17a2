"""The one place that wires the reporting service."""

from __future__ import annotations

from functools import partial

from metrology.eventkit.database import plan_each_execution
from metrology.reporting.adapters.plan_files import load_plans
from metrology.reporting.adapters.readmodel import metadata
from metrology.reporting.application.answers import AnswerCache
from metrology.reporting.application.evaluation import StatusEvaluation
from metrology.reporting.application.projection import KpiProjection
from metrology.reporting.domain.consumed import FOLDED_SERVICES, registry
from metrology.reporting.domain.events import register_published
from metrology.reporting.domain.plan import Plan
from metrology.reporting.entrypoints import dashboard, http, metrics, national, tasks
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.runtime import ServiceRuntime, new_runtime
from metrology.servicekit.settings import ServiceSettings


def bootstrap(settings: ServiceSettings, *, evaluate: bool = True) -> ServiceRuntime:
    """Build the runtime; a bad plan file stops here with a PlanFileError naming the file and line."""
    reporting = settings if isinstance(settings, ReportingSettings) else ReportingSettings(**settings.model_dump())
    plans = load_plans(reporting.plan_paths())
    runtime = new_runtime(reporting, register_published(registry()), [metadata])
    plan_each_execution(runtime.engine)  # its reads count ranges of dates: generic plans guess them wrong
    evaluation = (
        StatusEvaluation(
            plans, runtime.store, reporting.today, interval=reporting.evaluation_interval, signal=runtime.signal
        )
        if evaluate
        else None
    )
    runtime.subscribe(KpiProjection(runtime.registry, evaluation), FOLDED_SERVICES, group="projector")
    if evaluation is not None and evaluation.interval > 0:  # what the interval left is evaluated when it has passed
        runtime.background.append(partial(evaluation.run_trailing, sessions=runtime.sessions))
    runtime.routers += [http.router, national.router, tasks.router, dashboard.router]
    runtime.metric_sources.append(metrics.kpi_metrics)
    runtime.publishes = True
    runtime.title = "metrology reporting"
    runtime.description = DESCRIPTION
    set_plans(runtime, plans)
    runtime.answers = AnswerCache(  # type: ignore[attr-defined]
        computations=reporting.answer_computations,
        wait_seconds=reporting.answer_wait_seconds,
        lanes=reporting.progress_lanes,
    )
    return runtime


def set_plans(runtime: ServiceRuntime, plans: list[Plan]) -> None:
    runtime.plans = plans  # type: ignore[attr-defined]


DESCRIPTION = """KPIs of the provincial metrology plan, as of any business date.

Reads (KPIs, plan progress, exports, `/metrics`, the dashboard at `/`) are open to anonymous users when
`REPORTING_PUBLIC_DASHBOARD=true` (the default: the plan's progress is public information); otherwise any
authenticated role may read. A bearer token, when sent, must be valid, and its tenant is the one read.
"""
