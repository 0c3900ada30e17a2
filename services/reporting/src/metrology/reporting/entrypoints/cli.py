"""`metrology-reporting`: the service's command line, plus `rebuild` (replay the log from its start)."""

from __future__ import annotations

import sys
from functools import partial
from typing import NoReturn

import sqlalchemy as sa
import typer
from aiokafka.errors import KafkaConnectionError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from metrology.eventkit import event_loop
from metrology.eventkit.replay import LaneProcesses, ReplayProgress
from metrology.eventkit.topics import NoSuchTopicError, TopicNotReadyError
from metrology.reporting.adapters.plan_files import PlanFileError
from metrology.reporting.adapters.readmodel import FACT_TABLES
from metrology.reporting.application.evaluation import StatusEvaluation
from metrology.reporting.application.projection import KpiProjection
from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.settings import ReportingSettings
from metrology.servicekit.cli import service_cli
from metrology.servicekit.collector import settle_garbage_collector
from metrology.servicekit.command_settings import migrate_or_exit, refuse, settings_from_env
from metrology.servicekit.replay_commands import WORKERS_HELP, broker_unreachable
from metrology.servicekit.replaying import RebuildResult, check_workers, rebuild_subscription, start_lanes
from metrology.servicekit.runtime import ServiceRuntime


def cli() -> typer.Typer:
    app = service_cli("reporting", bootstrap, ReportingSettings)

    @app.command("rebuild")
    def rebuild_command(
        batch_size: int = typer.Option(2000, min=1, help="Records applied per transaction"),
        workers: int = typer.Option(1, min=1, help=WORKERS_HELP),
    ) -> None:
        """Empty the KPI read model and replay every folded topic from its start, showing progress."""
        settings = settings_from_env(ReportingSettings, "reporting")
        runtime = bootstrap(settings, evaluate=False)
        try:
            check_workers(runtime, workers)
        except ValueError as error:
            _refuse(str(error))
        settle_garbage_collector(settings.gc_young_threshold_folds)
        wiring = partial(bootstrap, settings, evaluate=False)
        lanes = start_lanes(runtime, runtime.subscriptions[0], workers, wiring)  # before the event loop: forked
        try:
            result = event_loop.run(_rebuild(runtime, batch_size, lanes))
        except TopicNotReadyError as error:
            _refuse(f"{error}; the read model is as it was: rebuild when it is ready")
        except KafkaConnectionError as error:
            _refuse(broker_unreachable(settings, error, "the rebuild stopped: run it again when it answers"))
        except NoSuchTopicError as error:
            _refuse(f"{error}; the read model is as it was (is KAFKA_TOPIC_PREFIX right?)")
        finally:
            if lanes is not None:
                lanes.stop()
        typer.echo(result.progress.described())
        if result.dead_letters:
            typer.echo(f"{result.dead_letters} records could not be read (see the dead-letter topic)")
        typer.echo(result.group_note)
        event_loop.run(_evaluate(runtime, settings))

    return app


def _refuse(message: str) -> NoReturn:
    refuse("reporting", message)


async def _rebuild(runtime: ServiceRuntime, batch_size: int, lanes: LaneProcesses | None) -> RebuildResult:
    """The kit's rebuild of the KPI projection (the consumer group is then moved to the ends the topics had when it
    began, so the consumer started next does not read the history again), then fresh planner statistics."""
    console = Console(stderr=True)
    columns = (
        TextColumn("rebuild"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>10,.0f} events/s"),
        TextColumn("ETA {task.fields[eta]:>6.0f}s"),
        TimeElapsedColumn(),
    )
    try:
        await migrate_or_exit(runtime)
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("rebuild", total=None, rate=0.0, eta=0.0)

            def show(progress: ReplayProgress) -> None:
                bar.update(task, completed=progress.done, total=progress.total, rate=progress.rate, eta=progress.eta)

            result = await rebuild_subscription(
                runtime,
                runtime.subscriptions[0],
                batch_size=batch_size,
                on_progress=show,
                lanes=lanes,
            )
        await _analyze(runtime)
        return result
    finally:
        await runtime.dispose()


async def _analyze(runtime: ServiceRuntime) -> None:
    """Fresh planner statistics for the rebuilt tables (the KPI queries' plans depend on them), and their pages
    marked all-visible (VACUUM), so that the reads served from an index alone need not visit the table."""
    if runtime.engine.dialect.name != "postgresql":
        return
    async with runtime.engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in FACT_TABLES:
            await connection.execute(sa.text(f"VACUUM (ANALYZE) {table.name}"))


async def _evaluate(runtime: ServiceRuntime, settings: ReportingSettings) -> None:
    """Bring the published statuses in line with the rebuilt numbers (publishes only what changed)."""
    fresh = bootstrap(settings)
    projection = fresh.subscriptions[0].projection
    assert isinstance(projection, KpiProjection)
    evaluation = projection.evaluation
    try:
        if isinstance(evaluation, StatusEvaluation):
            async with fresh.sessions.begin() as session:
                changed = await evaluation.evaluate(session)
            typer.echo(f"target statuses changed: {changed}")
    finally:
        await fresh.dispose()


def main() -> None:
    try:
        cli()()
    except PlanFileError as error:
        print(f"metrology-reporting: the plan cannot be used: {error}", file=sys.stderr)
        sys.exit(2)
