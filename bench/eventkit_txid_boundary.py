"""Gap-safety of `EventStore.read_all` where PostgreSQL transaction ids gain a digit (99,999 → 100,000, ...).

    .venv/bin/python bench/eventkit_txid_boundary.py --pg-url postgresql://USER:PASS@HOST:PORT/DB

Not a benchmark but a check that goes with `eventkit_appends.py`: it commits one event per transaction across
the next power of ten of the server's transaction ids, then follows the store with `read_all` (small and large
batches) and counts events skipped and read twice. To get there it burns transaction ids (one `SELECT
pg_current_xact_id()` each, ~0.1 ms), which moves the whole cluster's counter on: point it at a private server
(it refuses to burn more than --max-burn). Exit status 1 when an event was skipped or read twice.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CONTEXT, SOURCE, arguments, ensure_postgres, reading, registry, scratch_database, write_results

from metrology.eventkit import store as event_store
from metrology.eventkit.database import create_engine, create_schema
from metrology.eventkit.store import EventStore, Position
from metrology.eventkit.unit_of_work import UnitOfWork

EVENTS = 60  # one per transaction, half of them on each side of the boundary


async def burn_to(connection: asyncpg.Connection, target: int) -> None:
    while int(await connection.fetchval("SELECT pg_current_xact_id()::text")) < target:
        pass


async def follow(engine: Any, store: EventStore, limit: int) -> list[int]:
    after, seen = Position(), []
    for _ in range(10 * EVENTS):
        async with engine.connect() as connection:
            batch = await store.read_all(connection, after, limit)
        if not batch:
            break
        seen += [r.position.position for r in batch]
        after = batch[-1].position
    return seen


async def main() -> None:
    args = arguments(
        __doc__.splitlines()[0],
        lambda p: p.add_argument("--max-burn", type=int, default=300_000, help="most transaction ids to burn"),
    )
    ensure_postgres(args.pg_url)
    async with scratch_database(args.pg_url, "txid") as url:
        connection = await asyncpg.connect(url)
        engine = create_engine(url)
        try:
            now = int(await connection.fetchval("SELECT pg_current_xact_id()::text"))
            boundary = 10 ** len(str(now))
            if boundary - EVENTS // 2 - now > args.max_burn:
                sys.exit(f"the next boundary ({boundary:,}) is {boundary - now:,} transaction ids away (> --max-burn)")
            await burn_to(connection, boundary - EVENTS // 2)
            await create_schema(engine, event_store.metadata)
            store = EventStore(SOURCE)
            for i in range(EVENTS):
                async with UnitOfWork(engine, store, registry(), CONTEXT) as uow:
                    await uow.append("bench-boundary", i, [reading(i)])
            txids = [int(r[0]) for r in await connection.fetch("SELECT txid::text FROM events ORDER BY position")]
            rows = []
            for limit in (10, 1000):
                seen = await follow(engine, store, limit)
                rows.append(
                    {
                        "limit": limit,
                        "events": EVENTS,
                        "read": len(seen),
                        "skipped": EVENTS - len(set(seen)),
                        "duplicates": len(seen) - len(set(seen)),
                    }
                )
        finally:
            await engine.dispose()
            await connection.close()
    print(f"transaction ids {txids[0]:,}..{txids[-1]:,} (boundary {boundary:,})")
    for row in rows:
        print(
            f"  read_all limit {row['limit']:>5}: read {row['read']}, skipped {row['skipped']},"
            f" read twice {row['duplicates']}"
        )
    write_results("txid_boundary", {"boundary": boundary, "txids": [txids[0], txids[-1]], "results": rows})
    sys.exit(1 if any(r["skipped"] or r["duplicates"] for r in rows) else 0)


if __name__ == "__main__":
    asyncio.run(main())
