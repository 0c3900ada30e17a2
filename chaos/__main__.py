"""`python -m chaos`: private Kafka and PostgreSQL, every service as serve/relay/consume processes, the scripted
years over HTTP while the faults come in turn, then the checks and the table (see docs/reliability.md)."""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer

from chaos import checks, report
from chaos.faults import Injector, Monitor, schedule, until
from chaos.fleet import SERVICES, Fleet
from chaos.infra import PrivateInfra
from chaos.load import Ledger, Load, RetryingClient, scripted_year
from metrology.testkit.infra import create_database
from metrology.testkit.services import Platform

cli = typer.Typer(add_completion=False, help=__doc__)


@cli.command()
def run(
    quick: Annotated[
        bool, typer.Option(help="a short form: four faults (no broker stop), one cohort or more while faults remain")
    ] = False,
    cohorts: Annotated[int | None, typer.Option(help="cohorts of the scripted years at least (3 by default)")] = None,
    rounds: Annotated[int, typer.Option(help="times the full list of faults is gone through")] = 1,
    static_membership: Annotated[bool, typer.Option(help="consumers get KAFKA_GROUP_INSTANCE_ID")] = True,
    standbys: Annotated[
        bool, typer.Option(help="two APIs, relays and consumers where a fault comes (one of them a hot standby)")
    ] = True,
    budget: Annotated[
        float | None, typer.Option(help="seconds for the load and the faults (240 quick, 720 full)")
    ] = None,
    keep: Annotated[bool, typer.Option(help="keep the run's folder (service logs) at the end")] = False,
    markdown: Annotated[Path | None, typer.Option(help="write the table as markdown here")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write the raw numbers here")] = None,
    note: Annotated[str, typer.Option(help="a line about the machine, printed with the table")] = "",
) -> None:
    """Run the chaos suite; exits 1 when a command was lost or double-counted, or a check failed."""
    mode = "QUICK=1" if quick else f"full, {rounds} round(s)"
    options = Options(
        quick=quick,
        cohorts=cohorts or (1 if quick else 3),
        rounds=rounds,
        static=static_membership,
        standbys=standbys,
        budget=budget or (240 if quick else 720),
        keep=keep,
    )
    summary = asyncio.run(chaos(options, mode, note or machine_note()))
    report.show(summary)
    report.write(summary, markdown, json_out)
    f = summary.findings
    if f.lost or f.doubled or f.kpi_differences or f.rebuild_differences or f.failed_facts:
        raise typer.Exit(1)


def machine_note() -> str:
    load = os.getloadavg()
    return f"{platform.node()}, {os.cpu_count()} cores, load {load[0]:.1f} at the start"


@dataclass(frozen=True)
class Options:
    quick: bool
    cohorts: int
    rounds: int
    static: bool
    standbys: bool
    budget: float
    keep: bool


def paired(faults: list[str], standbys: bool) -> frozenset[tuple[str, str]]:
    """The commands run twice: those a fault comes to."""
    if not standbys:
        return frozenset()
    command = {"relay": "relay", "consume": "consume", "api": "serve"}
    targets = (fault.partition(" ") for fault in faults)
    return frozenset((target, command[kind]) for kind, _, target in targets if kind in command)


async def chaos(options: Options, mode: str, note: str) -> report.Summary:
    started_at, started = report.started_now(), time.monotonic()
    scripted = scripted_year()
    faults = schedule(options.quick, options.rounds)
    infra = PrivateInfra(keep=options.keep)
    print(f"chaos: private Kafka on {infra.kafka_bootstrap}, PostgreSQL on {infra.pg_port}, in {infra.run_dir}",
          file=sys.stderr)  # fmt: skip
    await asyncio.to_thread(infra.start)
    fleet: Fleet | None = None
    try:
        urls = {name: await create_database(infra.pg_admin_url, prefix=name) for name in SERVICES}
        fresh_url = await create_database(infra.pg_admin_url, prefix="rebuilt")
        workdir = infra.run_dir / "services"
        workdir.mkdir()
        pairs = paired(faults, options.standbys)
        fleet = Fleet(Platform(infra.kafka_bootstrap, workdir, urls), static_membership=options.static, pairs=pairs)
        await asyncio.to_thread(fleet.launch)
        print(f"chaos: {len(fleet.processes)} processes up after {time.monotonic() - started:.0f}s", file=sys.stderr)

        ledger = Ledger()
        admin = {"Authorization": f"Bearer {fleet.platform.token('province-admin')}"}
        apis = {
            name: [httpx.AsyncClient(base_url=url, headers=admin, timeout=30) for url in fleet.urls(name)]
            for name in SERVICES
        }
        clients = {name: RetryingClient(name, apis[name], ledger) for name in SERVICES}
        stop_at = time.monotonic() + options.budget
        load = Load(scripted, clients, ledger, options.cohorts, stop_at=stop_at, hard_stop=stop_at + 120)  # type: ignore[arg-type]
        monitor = Monitor(fleet, infra, urls, fleet.platform.prefix)
        injector = Injector(monitor, ledger, started, recovery_deadline=60 if options.quick else 120)

        faults_over, load_done = asyncio.Event(), asyncio.Event()

        async def perform() -> None:
            try:
                await load.run(faults_over)
            finally:
                load_done.set()

        async def inject() -> None:
            try:
                await injector.run(faults, load_done, deadline=stop_at)
            finally:
                faults_over.set()

        await asyncio.gather(perform(), inject())
        print(f"chaos: load and faults over after {time.monotonic() - started:.0f}s; checking", file=sys.stderr)
        await until(monitor.pipeline_caught_up, time.monotonic() + 180)
        monitor.revive_the_dead()
        first_apis = {name: replicas[0] for name, replicas in apis.items()}
        findings = await checks.check_everything(scripted, fleet, load, ledger, first_apis, urls, fresh_url)  # type: ignore[arg-type]
        for replicas in apis.values():
            for client in replicas:
                await client.aclose()
        return report.Summary(
            mode=mode,
            started=started_at,
            duration=time.monotonic() - started,
            cohorts=load.done_cohorts,
            faults=injector.results,
            sent=len(ledger.commands),
            acknowledged=len(ledger.acknowledged()),
            findings=findings,
            errors_seen=dict(ledger.errors),
            server_errors=ledger.server_errors,
            notes=monitor.notes,
            machine={"note": note},
        )
    finally:
        if fleet:
            fleet.stop_all()
        await asyncio.to_thread(infra.stop)


if __name__ == "__main__":
    cli()
