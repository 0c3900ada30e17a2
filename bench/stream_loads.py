"""A command's load of its aggregate's stream, as the stream grows: the unit of work reading the whole stream
(`EVENTS_KEPT=0`) beside one that keeps the streams it read (ADR 13) and reads from the last known event on.

    .venv/bin/python bench/stream_loads.py [--quick] [--lengths 10 100 400 1000]

On a scratch PostgreSQL database, one stream per length is filled with the bench's events. Each row then runs
`loads` commands, one after another: a unit of work reads the stream (`UnitOfWork.history`), and every tenth
command appends one event, as a command would, so the kept reads also fold new events. Reported: loads/s and
client CPU per load (`time.process_time`), and the ratio of the two ways in the same run.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CONTEXT, RESULTS, arguments, ensure_postgres, machine, reading, registry, scratch_database

from metrology.eventkit import EventStore
from metrology.eventkit.database import create_engine, create_schema
from metrology.eventkit.histories import StreamHistories
from metrology.eventkit.store import metadata
from metrology.eventkit.unit_of_work import KeptConnections, UnitOfWork

APPEND_EVERY = 10


async def fill(connections: KeptConnections, store: EventStore, stream: str, length: int) -> None:
    for start in range(0, length, 500):
        async with UnitOfWork(connections, store, registry(), CONTEXT) as uow:
            events = [reading(start + i) for i in range(min(500, length - start))]
            await uow.append(stream, start, events)


async def load_row(engine: Any, stream: str, loads: int, histories: StreamHistories | None) -> dict[str, float]:
    connections, store = KeptConnections(engine), EventStore("/metrology/bench", notify=False)
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(loads):
        async with UnitOfWork(connections, store, registry(), CONTEXT, histories=histories) as uow:
            events = await uow.history(stream)
            if n % APPEND_EVERY == 0:
                await uow.append(stream, len(events), [reading(n)])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    await connections.close()
    return {"loads_per_s": round(loads / wall, 1), "cpu_us_per_load": round(cpu / loads * 1e6, 1)}


async def main() -> None:
    options = arguments(__doc__, lambda p: p.add_argument("--lengths", type=int, nargs="+", default=[10, 100, 400]))
    ensure_postgres(options.pg_url)
    loads = 200 if options.quick else 1000
    result: dict[str, Any] = {"benchmark": "stream_loads", "machine": await machine(options.pg_url), "rows": []}
    async with scratch_database(options.pg_url, "streams") as url:
        engine = create_engine(url)
        await create_schema(engine, metadata)
        connections, store = KeptConnections(engine), EventStore("/metrology/bench", notify=False)
        for length in options.lengths:
            await fill(connections, store, f"course-{length}", length)
        await connections.close()
        print(f"{'events in the stream':>22} {'whole stream':>26} {'from the last known event':>30} {'ratio':>7}")
        for length in options.lengths:
            stream = f"course-{length}"
            whole = await load_row(engine, stream, loads, None)
            kept = await load_row(engine, stream, loads, StreamHistories())
            ratio = round(whole["cpu_us_per_load"] / kept["cpu_us_per_load"], 2)
            result["rows"].append({"length": length, "loads": loads, "whole": whole, "kept": kept, "cpu_ratio": ratio})
            print(
                f"{length:>22} {whole['loads_per_s']:>10}/s {whole['cpu_us_per_load']:>9} µs CPU"
                f" {kept['loads_per_s']:>14}/s {kept['cpu_us_per_load']:>9} µs CPU {ratio:>6}×"
            )
        await engine.dispose()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "stream_loads.json").write_text(json.dumps(result, indent=2))
    print(f"results: {RESULTS / 'stream_loads.json'}")


if __name__ == "__main__":
    asyncio.run(main())
