"""The command line every service shares: serve, relay, consume, run, migrate, provision-topics, token, schemas,
asyncapi, replay, rebuild."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
import uvicorn
from kafka.errors import KafkaError

from metrology.eventkit import event_loop
from metrology.eventkit.topics import ensure_topics
from metrology.servicekit.app import create_app
from metrology.servicekit.asyncapi import asyncapi_document
from metrology.servicekit.auth import Role, issue_dev_token
from metrology.servicekit.collector import settle_garbage_collector
from metrology.servicekit.command_settings import migrate_or_exit, production_ready_settings, refuse, settings_from_env
from metrology.servicekit.commands import prune_idempotency_keys
from metrology.servicekit.contracts import ContractBreachError, publish, published_types
from metrology.servicekit.observability import configure_logging, configure_tracing
from metrology.servicekit.replay_commands import add_replay_commands, broker_unreachable
from metrology.servicekit.runtime import ServiceRuntime
from metrology.servicekit.schema_migrations import NothingToMigrateError, new_revision
from metrology.servicekit.settings import ServiceSettings
from metrology.servicekit.workers import Workers

Bootstrap = Callable[[ServiceSettings], ServiceRuntime]
T = TypeVar("T")
HealthPort = Annotated[
    int | None, typer.Option(help="serve /health and /ready on this port (for probes); none by default")
]


def service_cli(name: str, bootstrap: Bootstrap, settings_type: type[ServiceSettings] = ServiceSettings) -> typer.Typer:
    cli = typer.Typer(name=f"metrology-{name}", no_args_is_help=True, add_completion=False)

    def settings_of_env() -> ServiceSettings:
        return settings_from_env(settings_type, name)

    def secure_settings() -> ServiceSettings:
        return production_ready_settings(settings_type, name)

    def runtime() -> ServiceRuntime:
        settings = secure_settings()
        configure_logging(settings)
        configure_tracing(settings)
        return bootstrap(settings)

    def serve_app(host: str | None, port: int | None, with_workers: bool) -> None:
        rt = runtime()
        app = create_app(rt, with_workers=with_workers, schema_ready=True)
        settle_garbage_collector(rt.settings.gc_young_threshold)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=host or rt.settings.http_host,
                port=port or rt.settings.http_port,
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=10,
            )
        )
        event_loop.run(_serve_with_schema(rt, server))
        if not server.started:  # as `uvicorn.run` ends: the server could not start, and logged why
            raise typer.Exit(3)

    @cli.command()
    def serve(
        host: Annotated[str | None, typer.Option()] = None, port: Annotated[int | None, typer.Option()] = None
    ) -> None:
        """Serve the HTTP API only (relay and consumers run as their own processes)."""
        serve_app(host, port, with_workers=False)

    @cli.command()
    def run(
        host: Annotated[str | None, typer.Option()] = None, port: Annotated[int | None, typer.Option()] = None
    ) -> None:
        """Serve the HTTP API with the relay and consumers in the same process (local runs)."""
        serve_app(host, port, with_workers=True)

    @cli.command()
    def relay(health_port: HealthPort = None) -> None:
        """Publish committed events to Kafka (the outbox relay)."""
        rt = runtime()
        workers = Workers(rt, relay=True, consumers=False)
        settle_garbage_collector(rt.settings.gc_young_threshold)
        _run_until_signalled(
            lambda stop: _with_schema(rt, lambda: _with_probes(rt, health_port, workers.run(stop), stop))
        )

    @cli.command()
    def consume(health_port: HealthPort = None) -> None:
        """Run the service's Kafka consumers (local replicas, sagas, projectors)."""
        rt = runtime()
        workers = Workers(rt, relay=False, consumers=True)
        settle_garbage_collector(rt.settings.gc_young_threshold_folds)
        _run_until_signalled(
            lambda stop: _with_schema(rt, lambda: _with_probes(rt, health_port, workers.run(stop), stop))
        )

    @cli.command()
    def migrate() -> None:
        """Create or bring up to date the service's database schema."""
        rt = runtime()
        event_loop.run(_with_schema(rt, _noop))
        typer.echo(f"{name}: schema ready")

    @cli.command()
    def prune(
        idempotency_days: Annotated[int, typer.Option(min=1, help="keep Idempotency-Key answers this many days")] = 30,
    ) -> None:
        """Delete Idempotency-Key answers older than the horizon (docs/operations.md, "Tracking tables")."""
        rt = runtime()
        horizon = timedelta(days=idempotency_days)
        deleted = event_loop.run(_with_schema(rt, lambda: prune_idempotency_keys(rt, horizon)))
        typer.echo(f"{name}: pruned {deleted} Idempotency-Key answers older than {idempotency_days} days")

    @cli.command()
    def revision(
        message: Annotated[str, typer.Option("--message", "-m", help="what the revision changes")],
        autogenerate: Annotated[bool, typer.Option(help="fill it in from the models' differences")] = False,
        branch: Annotated[
            str | None, typer.Option(help="whose tables: the service's (default), eventkit, servicekit")
        ] = None,
    ) -> None:
        """Write the next schema revision into the package that owns the tables (see docs/development.md)."""
        rt = bootstrap(settings_of_env())
        try:
            path = event_loop.run(new_revision(rt.migrations(), branch or name, message, autogenerate=autogenerate))
        except NothingToMigrateError as error:
            typer.echo(f"{name}: {error}", err=True)
            raise typer.Exit(1) from error
        typer.echo(f"{name}: wrote {path}; review it, then run the schema tests (tests/integration)")

    @cli.command("provision-topics")
    def provision_topics() -> None:
        """Create the service's Kafka topics (infinite retention) where missing."""
        rt = runtime()
        try:
            created = ensure_topics(rt.settings.kafka(), rt.topic_specs())
        except KafkaError as error:
            refuse(name, broker_unreachable(rt.settings, error, "no topic was made"))
        typer.echo(f"{name}: created {', '.join(created) or 'nothing (all present)'}")

    @cli.command()
    def token(
        role: Annotated[list[Role], typer.Option("--role", help="may be repeated")],
        subject: Annotated[str, typer.Option()] = "dev-user",
        tenant: Annotated[str | None, typer.Option()] = None,
        provider_id: Annotated[str | None, typer.Option()] = None,
        enterprise_id: Annotated[str | None, typer.Option()] = None,
    ) -> None:
        """Print a development bearer token (HS256, signed with AUTH_JWT_SECRET; ENVIRONMENT=development only)."""
        settings = settings_of_env()
        if not settings.development:
            refuse(name, "development tokens need ENVIRONMENT=development")
        typer.echo(
            issue_dev_token(
                settings.auth_jwt_secret,
                subject,
                [r.value for r in role],
                tenant or settings.tenant,
                issuer=settings.auth_issuer,
                audience=settings.auth_audience,
                provider_id=provider_id,
                enterprise_id=enterprise_id,
            )
        )

    @cli.command()
    def schemas(
        write: Annotated[
            Path | None,
            typer.Option(help="publish the schemas of the types this service writes under this folder (contracts/)"),
        ] = None,
    ) -> None:
        """Print the JSON Schema of every event type the service knows, or publish its own with --write."""
        rt = bootstrap(settings_of_env())
        if write is None:
            typer.echo(json.dumps(rt.registry.json_schemas(), indent=2))
            return
        try:
            written = publish(write, published_types(rt.registry, name))
        except ContractBreachError as error:
            typer.echo(f"{name}: refused, {error}", err=True)
            raise typer.Exit(1) from None
        except OSError as error:
            refuse(name, f"{cannot_write(write, error)}; the contracts after it were not written")
        typer.echo(f"{name}: wrote {', '.join(written) or 'nothing (every contract up to date)'}")

    @cli.command("asyncapi")
    def asyncapi(
        output: Annotated[Path | None, typer.Option("--output", "-o", help="write to this file")] = None,
    ) -> None:
        """Print the service's AsyncAPI 3.0 document (its topics, event types, headers and keys)."""
        text = json.dumps(asyncapi_document(bootstrap(settings_of_env())), indent=2, ensure_ascii=False)
        if output is None:
            typer.echo(text)
            return
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as error:
            refuse(name, cannot_write(output, error))

    add_replay_commands(cli, settings_of_env, runtime, bootstrap)
    return cli


def cannot_write(path: Path, error: OSError) -> str:
    """What an operator reads when a command cannot write where it was told to: the file or folder, and why."""
    return f"cannot write {error.filename or path} ({type(error).__name__}: {error.strerror or error})"


async def _noop() -> None:
    return None


async def _with_schema(rt: ServiceRuntime, work: Callable[[], Awaitable[T]]) -> T:
    """`work` once the schema is up to date, then the runtime disposed; one line and exit 2 (and no `work`) when
    this release cannot bring the schema up to date."""
    try:
        await migrate_or_exit(rt)
        return await work()
    finally:
        await rt.dispose()


async def _serve_with_schema(rt: ServiceRuntime, server: uvicorn.Server) -> None:
    """Serve once the schema is up to date; one line and exit 2, before anything listens, when this release cannot
    bring it up to date (the app's lifespan would report it as a traceback)."""
    try:
        await migrate_or_exit(rt)
    except BaseException:
        await rt.dispose()
        raise
    await server.serve()


async def _with_probes(
    rt: ServiceRuntime, port: int | None, work: Coroutine[Any, Any, None], stop: asyncio.Event
) -> None:
    """Run `work`, and beside it a bare HTTP server answering the health probes when a port is given."""
    if port is None:
        await work
        return
    from fastapi import FastAPI

    from metrology.servicekit import health

    probes = FastAPI(openapi_url=None)
    probes.state.runtime = rt
    probes.include_router(health.router)
    server = uvicorn.Server(uvicorn.Config(probes, host="0.0.0.0", port=port, log_config=None, access_log=False))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign,attr-defined]
    serving = asyncio.create_task(server.serve())
    try:
        await work
    finally:
        server.should_exit = True
        await serving


def _run_until_signalled(main: Callable[[asyncio.Event], Coroutine[Any, Any, None]]) -> None:
    async def runner() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await main(stop)
        finally:  # a signal after the work ends the process as it would have before
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    event_loop.run(runner())
