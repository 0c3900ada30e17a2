"""Reporting at 1,000,000 events: publish a synthetic log, rebuild the KPI read model from it, time KPI queries.

    .venv/bin/python bench/reporting_million.py --events 1000000

Needs the Kafka broker (127.0.0.1:9092) and PostgreSQL (127.0.0.1:55432) of scripts/infra. The topics get a
prefix of their own and the read model a fresh database, dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from aiokafka import AIOKafkaProducer

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.projector import ProjectorRunner
from metrology.eventkit.replay import rebuild
from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.reporting.application import kpis
from metrology.reporting.application.progress import plan_progress
from metrology.reporting.bootstrap import bootstrap
from metrology.reporting.domain.plan import Metric
from metrology.reporting.settings import ReportingSettings
from metrology.testkit import infra

START = date(2021, 8, 1)
DAYS = (date(2025, 12, 31) - START).days
NOW = datetime.now(UTC)


def day(rng: random.Random) -> str:
    return (START + timedelta(days=rng.randrange(DAYS))).isoformat()


def envelope(service: str, type_: str, stream: str, data: dict) -> tuple[str, Envelope]:
    return service, Envelope(
        id=str(uuid.uuid4()),
        type=f"vn.metrology.{service}.{type_}.v1",
        source=f"/metrology/{service}",
        time=NOW,
        stream_id=stream,
        stream_version=1,
        tenant="83",
        correlation_id="bench",
        subject=stream,
        data=data,
    )


def synthetic_log(total: int, seed: int = 7):
    """About 10 % instruments, 60 % verification work + certificates, 10 % accesses, 19 % completions."""
    rng = random.Random(seed)
    enterprises = max(10, total // 200)
    instruments = total // 10
    types = ["2.6", "2.7", "2.4", "2.5"]
    for e in range(enterprises):
        yield envelope(
            "registry",
            "enterprise-registered",
            f"enterprise-e{e}",
            {
                "occurred_on": "2021-01-01",
                "enterprise_id": f"e{e}",
                "sector": f"s{e % 7}",
                "commune_code": f"{28700 + e % 60}",
            },
        )
        yield envelope(
            "outreach",
            "enterprise-enrolled",
            f"participation-e{e}",
            {"occurred_on": day(rng), "participation_id": f"pa{e}", "enterprise_id": f"e{e}"},
        )
    for p in range(20):
        yield envelope(
            "registry",
            "provider-registered",
            f"provider-p{p}",
            {
                "occurred_on": "2021-01-01",
                "provider_id": f"p{p}",
                "name": f"P{p}",
                "ownership": "socialised" if p % 2 else "state",
                "province_code": "83" if p < 15 else "79",
            },
        )
        yield envelope(
            "registry",
            "provider-designated",
            f"provider-p{p}",
            {
                "occurred_on": day(rng),
                "provider_id": f"p{p}",
                "designation_id": f"d{p}",
                "instrument_types": types[: 1 + p % 4],
                "valid_from": "2021-01-01",
                "valid_until": "2030-01-01",
            },
        )
    for i in range(instruments):
        yield envelope(
            "registry",
            "instrument-registered",
            f"instrument-i{i}",
            {
                "occurred_on": day(rng),
                "instrument_id": f"i{i}",
                "type_code": types[i % 4],
                "owner_enterprise_id": f"e{i % enterprises}",
                "commune_code": f"{28700 + i % 60}",
            },
        )
    produced = enterprises * 2 + 40 + instruments
    jobs = int(total * 0.3)
    for j in range(jobs):
        when = day(rng)
        p = rng.randrange(20)
        yield envelope(
            "verification",
            "work-recorded",
            f"job-j{j}",
            {
                "occurred_on": when,
                "job_id": f"j{j}",
                "kind": "verification",
                "subject": "instrument",
                "subject_id": f"i{rng.randrange(instruments)}",
                "type_code": types[j % 4],
                "owner_enterprise_id": f"e{rng.randrange(enterprises)}",
                "provider_id": f"p{p}",
                "provider_province_code": "83" if p < 15 else "79",
                "result": "pass" if j % 10 else "fail",
            },
        )
        yield envelope(
            "verification",
            "certificate-issued",
            f"job-j{j}",
            {
                "occurred_on": when,
                "job_id": f"j{j}",
                "subject_id": f"i{j % instruments}",
                "valid_until": (date.fromisoformat(when) + timedelta(days=365)).isoformat(),
            },
        )
    produced += jobs * 2
    accesses = int(total * 0.1)
    for a in range(accesses):
        yield envelope(
            "outreach",
            "access-recorded",
            f"participation-e{a % enterprises}",
            {
                "occurred_on": day(rng),
                "access_id": f"a{a}",
                "participation_id": f"pa{a % enterprises}",
                "enterprise_id": f"e{a % enterprises}",
                "channel": rng.choice(["method", "consultation"]),
            },
        )
    produced += accesses
    for c in range(max(0, total - produced)):
        yield envelope(
            "training",
            "trainee-completed",
            f"course-c{c // 30}",
            {"occurred_on": day(rng), "course_id": f"c{c // 30}", "trainee_id": f"t{c}", "passed": c % 9 != 0},
        )


async def publish(bootstrap_servers: str, prefix: str, total: int) -> tuple[int, float]:
    topics = [f"{prefix}metrology.{s}.v1" for s in ("registry", "verification", "outreach", "training")]
    ensure_topics(infra_connection(bootstrap_servers), [TopicSpec(t, 3, 1) for t in topics])
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers, linger_ms=20, max_batch_size=512 * 1024, compression_type=None, acks="all"
    )
    await producer.start()
    started, sent = time.monotonic(), 0
    try:
        pending = []
        for service, env in synthetic_log(total):
            pending.append(
                await producer.send(f"{prefix}metrology.{service}.v1", env.to_json(), key=env.stream_id.encode())
            )
            sent += 1
            if len(pending) >= 20000:
                await asyncio.gather(*pending)
                pending = []
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent, time.monotonic() - started


def infra_connection(servers: str):
    from metrology.eventkit.kafka import KafkaConnection

    return KafkaConnection(bootstrap_servers=servers)


def p99(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=100)[98] if len(samples) >= 2 else samples[0]


async def main(total: int, queries: int) -> None:
    servers = infra.kafka_bootstrap()
    admin = infra.postgres_url()
    url = await infra.create_database(admin, prefix="bench_reporting")
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    try:
        sent, publish_s = await publish(servers, prefix, total)
        print(f"published {sent:,} events in {publish_s:.1f}s ({sent / publish_s:,.0f}/s)")
        settings = ReportingSettings(
            service_name="reporting", database_url=url, kafka_bootstrap_servers=servers, kafka_topic_prefix=prefix
        )
        runtime = bootstrap(settings, evaluate=False)
        await runtime.migrate()
        subscription = runtime.subscriptions[0]

        class NoDeadLetters:
            async def send(self, letters: object) -> None:
                return None

        runner = ProjectorRunner(runtime.sessions, subscription.projection, NoDeadLetters())
        last = [0.0]

        def show(progress) -> None:
            if progress.elapsed - last[0] > 15:
                last[0] = progress.elapsed
                print(
                    f"  {progress.done:,}/{progress.total:,} {progress.rate:,.0f}/s ETA {progress.eta:.0f}s", flush=True
                )

        result = await rebuild(settings.kafka(), runner, subscription.topics, batch_size=2000, on_progress=show)
        print(f"rebuilt {result.done:,} events in {result.elapsed:.1f}s ({result.rate:,.0f}/s)")
        plan = runtime.plans[0]  # type: ignore[attr-defined]
        rng = random.Random(1)
        timings: dict[str, list[float]] = {m.value: [] for m in Metric}
        async with runtime.engine.connect() as connection:
            for _ in range(queries):
                for metric in Metric:
                    as_of = START + timedelta(days=rng.randrange(DAYS))
                    t0 = time.perf_counter()
                    await kpis.read(connection, metric, kpis.Scope("83", provinces=("83", "86")), as_of)
                    timings[metric.value].append(time.perf_counter() - t0)
            progress_times = []
            for _ in range(max(3, queries // 10)):
                t0 = time.perf_counter()
                await plan_progress(connection, plan, date(2025, 12, 31))
                progress_times.append(time.perf_counter() - t0)
        for name, samples in timings.items():
            print(
                f"GET /kpis/{name} (with breakdowns): p50 {statistics.median(samples) * 1000:.0f} ms, "
                f"p99 {p99(samples) * 1000:.0f} ms over {len(samples)}"
            )
        print(
            f"whole plan progress (8 targets, monthly series, forecasts, breakdowns): "
            f"p50 {statistics.median(progress_times):.2f} s, max {max(progress_times):.2f} s over {len(progress_times)}"
        )
        await runtime.engine.dispose()
    finally:
        await infra.drop_database(admin, url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.events, args.queries))
