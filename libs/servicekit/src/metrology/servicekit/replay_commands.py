"""`replay`, `rebuild` and `redrive`: the commands every service's command line carries for integrators and
operators (docs/integration.md, docs/operations.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from functools import partial
from typing import Annotated

import typer
from aiokafka.errors import KafkaConnectionError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from metrology.eventkit import event_loop
from metrology.eventkit.replay import LaneProcesses, ReplayProgress
from metrology.eventkit.replay import redrive as redrive_dead_letters
from metrology.eventkit.topics import NoSuchTopicError, TopicNotReadyError, event_topic
from metrology.servicekit.collector import settle_garbage_collector
from metrology.servicekit.command_settings import migrate_or_exit
from metrology.servicekit.replaying import (
    RebuildResult,
    ReplayedRecord,
    ReplayStart,
    check_workers,
    read_topic,
    rebuild_subscription,
    start_lanes,
    subscriptions_named,
)
from metrology.servicekit.runtime import ServiceRuntime
from metrology.servicekit.settings import ServiceSettings


class Format(StrEnum):
    json = "json"
    table = "table"


def add_replay_commands(
    cli: typer.Typer,
    settings: Callable[[], ServiceSettings],
    runtime: Callable[[], ServiceRuntime],
    bootstrap: Callable[[ServiceSettings], ServiceRuntime],
) -> None:
    @cli.command()
    def replay(
        topic: Annotated[str, typer.Argument(help="a topic name, or a service name for its event topic (registry)")],
        from_offset: Annotated[int | None, typer.Option(min=0, help="start at this offset in each partition")] = None,
        from_time: Annotated[
            str | None, typer.Option(help="start at the first record at or after this time (ISO 8601; UTC if no zone)")
        ] = None,
        partition: Annotated[int | None, typer.Option(min=0, help="read only this partition")] = None,
        limit: Annotated[int | None, typer.Option(min=1, help="stop after this many records")] = None,
        output: Annotated[Format, typer.Option("--format", help="JSON Lines, or a table for people")] = Format.json,
    ) -> None:
        """Print the events of a topic from an offset or a time up to its current end (nothing is committed)."""
        if from_offset is not None and from_time is not None:
            raise typer.BadParameter("give --from-offset or --from-time, not both")
        config = settings()
        name = topic if "." in topic else config.kafka_topic_prefix + event_topic(topic)
        start = ReplayStart(from_offset, _parsed_time(from_time), partition, limit)
        try:
            records = event_loop.run(_collect(config, name, start, output))
        except (LookupError, TopicNotReadyError) as error:
            raise typer.Exit(_failed(str(error))) from None
        except KafkaConnectionError as error:
            raise typer.Exit(_failed(broker_unreachable(config, error, "nothing was read"))) from None
        if output is Format.table:
            Console().print(_table(name, records))

    @cli.command()
    def rebuild(
        name: Annotated[
            str | None, typer.Argument(help="the consumer to rebuild (its projection name); all if none")
        ] = None,
        batch_size: Annotated[int, typer.Option(min=1, help="records applied per transaction")] = 2000,
        workers: Annotated[int, typer.Option(min=1, help=WORKERS_HELP)] = 1,
    ) -> None:
        """Empty a consumer's read model and replay its topics from the start, showing progress (stop it first)."""
        rt = runtime()
        try:
            chosen = subscriptions_named(rt, name)
            check_workers(rt, workers)
        except (LookupError, ValueError) as error:
            raise typer.Exit(_failed(str(error))) from None
        settle_garbage_collector(rt.settings.gc_young_threshold_folds)
        wiring = partial(bootstrap, rt.settings)
        lanes = {s.projection.name: start_lanes(rt, s, workers, wiring) for s in chosen}  # forked: no loop yet
        try:
            results = event_loop.run(_rebuild_all(rt, lanes, batch_size))
        except TopicNotReadyError as error:
            raise typer.Exit(_failed(f"{error}; the rebuild stopped there: run it again when it is ready")) from None
        except NoSuchTopicError as error:
            raise typer.Exit(_failed(f"{error}; the rebuild stopped there (is KAFKA_TOPIC_PREFIX right?)")) from None
        except KafkaConnectionError as error:
            raise typer.Exit(_failed(broker_unreachable(rt.settings, error, "the rebuild stopped there"))) from None
        finally:
            for started in lanes.values():
                if started is not None:
                    started.stop()
        for result in results:
            typer.echo(f"{result.name}: {result.progress.described()}")
            if result.dead_letters:
                typer.echo(
                    f"{result.name}: {result.dead_letters} records could not be read (see the dead-letter topic)"
                )
            typer.echo(f"{result.name}: {result.group_note}")

    @cli.command()
    def redrive(
        limit: Annotated[int | None, typer.Option(min=1, help="put back at most this many dead letters")] = None,
    ) -> None:
        """Put the service's dead letters back on the topics they came from (after the fix is deployed)."""
        rt = runtime()
        group = f"{rt.settings.kafka_topic_prefix}{rt.name}.redrive"
        try:
            result = event_loop.run(redrive_dead_letters(rt.settings.kafka(), rt.dead_letter_topic, group, limit=limit))
        except TopicNotReadyError as error:
            raise typer.Exit(_failed(f"{error}; nothing was redriven: run it again when it is ready")) from None
        except KafkaConnectionError as error:
            raise typer.Exit(_failed(broker_unreachable(rt.settings, error, "nothing was redriven"))) from None
        where = ", ".join(f"{topic}: {count}" for topic, count in sorted(result.by_topic.items())) or "nothing to do"
        typer.echo(f"{rt.name}: redrove {result.sent} dead letters ({where})")


def _parsed_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO 8601 time: {text}", param_hint="--from-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _collect(config: ServiceSettings, topic: str, start: ReplayStart, output: Format) -> list[ReplayedRecord]:
    """Print JSON Lines as records arrive; keep them for a table (printed once complete)."""
    kept = []
    async for record in read_topic(config.kafka(), topic, start):
        if output is Format.json:
            typer.echo(json.dumps(record.as_json(), ensure_ascii=False))
        else:
            kept.append(record)
    return kept


def _table(topic: str, records: list[ReplayedRecord]) -> Table:
    table = Table(title=f"{topic}: {len(records)} records")
    for column in ("partition", "offset", "time", "type", "stream", "v", "tenant"):
        table.add_column(column)
    for r in records:
        e = r.envelope
        if e is None:
            table.add_row(
                str(r.partition), str(r.offset), r.timestamp.isoformat(), f"unreadable: {r.error}", "", "", ""
            )
            continue
        kind = e.type.removeprefix("vn.metrology.")
        table.add_row(
            str(r.partition), str(r.offset), e.time.isoformat(), kind, e.stream_id, str(e.stream_version), e.tenant
        )
    return table


WORKERS_HELP = "processes replaying the partitions side by side (PostgreSQL only; at most one per partition)"


async def _rebuild_all(
    rt: ServiceRuntime, lanes: dict[str, LaneProcesses | None], batch_size: int
) -> list[RebuildResult]:
    """Rebuild the projections named in `lanes` one after another, each with its lanes' processes (None: replayed
    in this process)."""
    console = Console(stderr=True)
    results = []
    try:
        await migrate_or_exit(rt)
        for subscription in subscriptions_named(rt, None):
            if subscription.projection.name not in lanes:
                continue
            with Progress(*_columns(subscription.projection.name), console=console) as bar:
                task = bar.add_task("rebuild", total=None, rate=0.0, eta=0.0)

                def show(progress: ReplayProgress, task: TaskID = task, bar: Progress = bar) -> None:
                    bar.update(
                        task, completed=progress.done, total=progress.total, rate=progress.rate, eta=progress.eta
                    )

                results.append(
                    await rebuild_subscription(
                        rt,
                        subscription,
                        batch_size=batch_size,
                        on_progress=show,
                        lanes=lanes[subscription.projection.name],
                    )
                )
    finally:
        await rt.dispose()
    return results


def _columns(name: str) -> tuple[ProgressColumn, ...]:
    return (
        TextColumn(f"rebuild {name}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>10,.0f} events/s"),
        TextColumn("ETA {task.fields[eta]:>6.0f}s"),
        TimeElapsedColumn(),
    )


def broker_unreachable(settings: ServiceSettings, error: Exception, outcome: str) -> str:
    """What a command says when the broker cannot be reached: where it looked, the client's reason, what was done."""
    return f"cannot reach Kafka at {settings.kafka_bootstrap_servers} ({error}); {outcome}"


def _failed(message: str) -> int:
    typer.echo(message, err=True)
    return 2
