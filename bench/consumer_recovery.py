"""Consumer recovery: a `consume` process killed with kill -9 while events flow, started again at once; the time
from the kill until the group is stable and the read model holds an event acknowledged after the kill (a consumer
is at work again: everything before the kill was already folded).

Four processes on the local Kafka and PostgreSQL: registry `serve` and `relay` (the events: a provider registered
over HTTP every `--interval` seconds), verification `serve` (to read its replica) and `consume` (the replica of
the registry, consumer group `verification.registry-replica`). Each round kills the consumer, starts it again and
polls every 50 ms. Three settings: a hot standby (two `consume` processes with the same `KAFKA_GROUP_INSTANCE_ID`:
one holds the lease and consumes, the other waits and takes over when the first dies; the active one is killed),
static group membership (one process with `KAFKA_GROUP_INSTANCE_ID` set: the restarted process takes the dead
member's place) and dynamic (empty: the group waits for the dead member's session to time out, then rebalances).

    .venv/bin/python bench/consumer_recovery.py --quick     # 2 rounds each
    .venv/bin/python bench/consumer_recovery.py             # 8 rounds each
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))  # the chaos package (repository root)

from chaos.faults import group_lag, until  # noqa: E402
from chaos.fleet import Fleet  # noqa: E402
from metrology.testkit.infra import create_database, drop_database  # noqa: E402
from metrology.testkit.services import Platform  # noqa: E402

GROUP = "verification.registry-replica"
DEFAULT_PG_URL = "postgresql://metrology:metrology@127.0.0.1:55432/metrology"


class Feed:
    """Registers a provider every `interval` seconds; counts the acknowledged ones."""

    def __init__(self, registry: httpx.AsyncClient, interval: float) -> None:
        self.registry = registry
        self.interval = interval
        self.acknowledged = 0

    async def run(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            body = {"name": f"Bench provider {n}", "ownership": "socialised", "province_code": "83",
                    "commune_code": "28756", "fields": ["mass"], "registration_certificate_number": f"B{n}/ĐKDV",
                    "registration_certificate_date": "2025-01-02", "registered_on": "2025-01-02"}  # fmt: skip
            response = await self.registry.post("/providers", json=body)
            if response.status_code == 201:
                self.acknowledged += 1
            await asyncio.sleep(self.interval)


async def replica_holds(verification: httpx.AsyncClient, providers: int) -> bool:
    try:
        counts = (await verification.get("/replica")).json()
    except (httpx.HTTPError, ValueError):
        return False
    return int(counts.get("providers", 0)) >= providers


async def moving_past(fleet: Fleet, verification: httpx.AsyncClient, kafka: str, providers: int) -> bool:
    """The group is stable and the replica holds more providers than were acknowledged at the kill: a provider
    registered after the kill has been folded, so a consumer is at work again (with the feed running, "no lag at
    all" is a matter of luck at any instant, so it is not the test)."""
    if await group_lag(kafka, fleet.platform.prefix + GROUP, fleet.platform.prefix, ("registry",)) is None:
        return False
    return await replica_holds(verification, providers + 1)


async def processes_up(fleet: Fleet) -> bool:
    async with httpx.AsyncClient(timeout=2) as http:
        for replica in fleet.replicas("verification", "consume"):
            try:
                url = fleet.process("verification", "consume", replica).url
                if (await http.get(f"{url}/health")).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
    return True


async def round_trip(fleet: Fleet, verification: httpx.AsyncClient, feed: Feed, kafka: str, limit: float) -> float:
    async def settled() -> bool:
        return await replica_holds(verification, feed.acknowledged - 3)

    async def every_process_up() -> bool:  # the standby restarted in the round before is up again
        return await processes_up(fleet)

    await until(every_process_up, time.monotonic() + limit, every=0.2)
    await until(settled, time.monotonic() + limit, every=0.2)  # start from a pipeline that keeps up
    await asyncio.sleep(1.0)
    replica = await fleet.active("verification", "consume")
    killed, acknowledged = time.monotonic(), feed.acknowledged
    fleet.kill("verification", "consume", replica)
    fleet.restart("verification", "consume", replica)

    async def probe() -> bool:
        return await moving_past(fleet, verification, kafka, acknowledged)

    if await until(probe, killed + limit, every=0.05):
        return time.monotonic() - killed
    return float("inf")


SETTINGS = {  # name: (static membership, a hot standby beside the consumer)
    "hot standby": (True, True),
    "static membership": (True, False),
    "dynamic membership": (False, False),
}


async def measure(setting: str, args: argparse.Namespace, workdir: Path) -> list[float]:
    static, standby = SETTINGS[setting]
    urls = {name: await create_database(args.pg_url, prefix=f"bench_{name}") for name in ("registry", "verification")}
    platform = Platform(args.kafka, workdir, urls)
    pairs = frozenset({("verification", "consume")}) if standby else frozenset()
    fleet = Fleet(platform, static_membership=static, pairs=pairs)
    try:
        await asyncio.to_thread(fleet.start_all, [("registry", "serve"), ("verification", "serve")])
        await asyncio.to_thread(fleet.start_all, [("registry", "relay"), ("verification", "consume")])
        admin = {"Authorization": f"Bearer {platform.token('province-admin')}"}
        async with (
            httpx.AsyncClient(base_url=fleet.url("registry"), headers=admin, timeout=30) as registry,
            httpx.AsyncClient(base_url=fleet.url("verification"), headers=admin, timeout=30) as verification,
        ):
            feed, stop = Feed(registry, args.interval), asyncio.Event()
            feeding = asyncio.create_task(feed.run(stop))
            times = []
            for n in range(args.rounds):
                seconds = await round_trip(fleet, verification, feed, args.kafka, args.limit)
                print(f"  {setting} round {n + 1}: {seconds:.2f}s", file=sys.stderr)
                times.append(seconds)
            stop.set()
            await feeding
        return times
    finally:
        fleet.stop_all()
        for url in urls.values():
            await drop_database(args.pg_url, url)


def summary(times: list[float]) -> dict[str, Any]:
    return {"rounds": len(times), "median_s": round(statistics.median(times), 2), "max_s": round(max(times), 2),
            "all_s": [round(t, 2) for t in times]}  # fmt: skip


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                               "load_before": os.getloadavg()[0], "interval_s": args.interval}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-recovery-") as tmp:
        for name in SETTINGS:
            folder = Path(tmp) / name.replace(" ", "-")
            folder.mkdir()
            results[name] = summary(await measure(name, args, folder))
    results["load_after"] = os.getloadavg()[0]
    return results


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 rounds per setting")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between two registered providers")
    parser.add_argument("--limit", type=float, default=120, help="give up on a round after this many seconds")
    parser.add_argument("--kafka", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    parser.add_argument("--pg-url", default=os.environ.get("METROLOGY_BENCH_PG_URL")
                        or os.environ.get("METROLOGY_TEST_PG_URL", DEFAULT_PG_URL))  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        args.rounds = 2
    return args


if __name__ == "__main__":
    outcome = asyncio.run(main(parse()))
    print(json.dumps(outcome, indent=2))
    results = BENCH / "results"
    results.mkdir(exist_ok=True)
    (results / "consumer_recovery.json").write_text(json.dumps(outcome, indent=2))
    for setting in SETTINGS:
        s = outcome[setting]
        print(f"{setting:>20}: kill -9 to caught up, median {s['median_s']:.2f}s, max {s['max_s']:.2f}s "
              f"over {s['rounds']} rounds")  # fmt: skip
