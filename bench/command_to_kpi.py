"""Command -> KPI visible: how long after training acknowledges a passed completion the reporting service's
`GET /kpis/person-times-trained` counts it, at a sustained command rate, on a read model that already holds a
large log (issue 13, point 4: p99 <= 200 ms at 100 commands/s for a minute on 1,000,000 events).

    .venv/bin/python bench/command_to_kpi.py --events 1000000
    .venv/bin/python bench/command_to_kpi.py --events 20000 --seconds 10          # a small check
    .venv/bin/python bench/command_to_kpi.py --prefix P --topic-counts '{...}' --database-url U   # reuse a kept model

The platform, all real processes:
- the read model is built as bench/reporting_million.py builds it: its catalogue-shaped log of `--events` events
  published on a fresh topic prefix, `metrology-reporting rebuild` into a fresh PostgreSQL database (or a model
  that `reporting_million.py --keep` left: `--prefix`, `--topic-counts`, `--database-url`). The rebuild moves the
  reporting consumer group to the topics' ends; the bench sets it there once more (a kept model reused after
  earlier runs, or a group a just-stopped static member still held), so the consumer started next does not read
  the whole log again only to skip it (the read model must hold every record of the topics);
- training on a fresh database and the same prefix, with development tokens (a trainer's, HS256), and reporting
  on the read model (the KPI projector folding the topics continuously, status evaluation as the service is
  configured: after every batch by default), in one of two shapes (`--shape`):
  `deployed` (the default): each service as compose.yaml and deploy/k8s run it, `serve` (the HTTP API) beside
  `relay` (training's outbox relay) or `consume` (reporting's projector), one process each;
  `single-process`: `metrology-training run` and `metrology-reporting run`, the HTTP API with the relay or the
  projector in one process (local runs), where the polls' answers and the projector's batches share one event
  loop.

Before anything is timed, training gets C = max(commands / 40, 5 s x rate) courses, each with its share of
trainees registered and enrolled by one attendance-list import, and the bench waits until the relay has
published every stored event and the projector's group has no lag. Each timed command is then ONE
`POST /courses/{id}/completions` with a passed result: it raises person-times-trained by exactly one. Command k
goes to course k mod C, so a course is hit again only 5 s later and concurrent commands do not race on one course
stream (training answers such a race 409, it does not retry).

Timed phases: optionally `--single-seconds` at 1 command/s first (one at a time, the issue's "empty platform"
shape but on the full read model), then `--rate` commands/s for `--seconds`. Open loop: command k is scheduled at
start + k / rate and queued for `--senders` concurrent senders (keep-alive HTTP/1.1 connections of
bench/verification_write.py's small client); a command sent after its scheduled time counts as late (reported,
not hidden). Each command's HTTP acknowledgement time (its 201 answer fully read) is recorded. Meanwhile one
poller reads `GET /kpis/person-times-trained?as_of=<--as-of>` (with `&breakdowns=false` under `--value-only`:
the value a tile or a monitor polls, without the thousands of per-course rows) in a loop, recording (request
start, answer end, value), and goes on after the last command until the value counts every acknowledged command (or
`--drain-seconds` pass). Polls start at least `--poll-interval` (10 ms) apart: a cached answer comes back in
~2 ms, and an unpaced loop would be a load of its own on the reporting process the projector runs in.

The match is by count, not by identity: the KPI is a number. Command k (the k-th acknowledged, in
acknowledgement order) is taken as visible at the END of the first poll that STARTED after its acknowledgement
and whose value >= base + k (base: the value read before the phase). So the latency includes up to one poll
of waiting plus one poll's duration, and when completions commit out of acknowledgement order, a later command's
completion can stand in for an earlier one's (the k-th visible count, not the k-th command's own fact). A
command acknowledged but never counted within the drain shows as `not_visible`; the phase also checks that the
final value is exactly base + acknowledged.

Reported per phase: visibility p50/p95/p99/max, commands sent/acknowledged/failed (by status), achieved rate, send
lateness and acknowledgement latency, poll count and poll duration p50/p99, CPU seconds of each service process (and
of each service), and the 1-minute load average (sampled every 2 s). To split the latency, `ack_to_topic_ms` gives,
per command, its completion record's Kafka timestamp (set by training's relay as it sends) minus the wall time of
its acknowledgement (one machine, one clock; negative when the relay sent before the answer was read): the relay's
share; the rest is the projector's batch, its transaction and the poll. The peer in the same run is the
one-at-a-time phase: `visible_p99_sustained_over_one_at_a_time`. Results (with every sample) go to
bench/results/command_to_kpi.json; topics and databases are dropped at the end unless `--keep` (which prints the
`--prefix`, `--database-url` and `--topic-counts` to reuse them; `--seconds 0` runs the single phase alone).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from reporting_million import CLI as REPORTING_CLI
from reporting_million import REPO, LoadSampler, machine, percentile, publish, rebuild, serve
from verification_write import Client, cpu_seconds

from metrology.eventkit.envelope import Envelope
from metrology.eventkit.kafka import KafkaConnection
from metrology.eventkit.topics import TopicSpec, ensure_topics
from metrology.servicekit.auth import issue_dev_token
from metrology.servicekit.replaying import end_offsets, move_group
from metrology.testkit import infra
from metrology.training.application.importing import COLUMNS

RESULTS = REPO / "bench" / "results" / "command_to_kpi.json"
TRAINING_CLI = str(REPO / ".venv" / "bin" / "metrology-training")
FOLDED = ("registry", "verification", "outreach", "training", "inspection")  # reporting's FOLDED_SERVICES
GROUP = "reporting.projector"
SECRET = "bench-secret-" + "0" * 40
PER_COURSE = 40  # at most, as the catalogue log has them
REVISIT_SECONDS = 5  # at least this long between two commands on one course, at the phase's rate
COURSE = {
    "title": "Kiểm định đồng hồ nước lạnh",
    "topic": "verification of cold-water meters",
    "organiser": "Chi cục TĐC Bến Tre",
    "starts_on": "2025-04-01",
    "ends_on": "2025-04-03",
}
IMPORT_HEADER = ",".join(COLUMNS)  # the attendance list: registers, enrols and marks each trainee present


def topic(prefix: str, service: str) -> str:
    return f"{prefix}metrology.{service}.v1"


# --- the services ----------------------------------------------------------------------------------------------


def environment(prefix: str, servers: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METROLOGY_", "REPORTING_", "TRAINING_", "KAFKA_"))}
    return env | {
        "KAFKA_BOOTSTRAP_SERVERS": servers,
        "KAFKA_TOPIC_PREFIX": prefix,
        "TENANT": "83",
        "LOG_LEVEL": "WARNING",
        "ENVIRONMENT": "development",
        "AUTH_JWT_SECRET": SECRET,
        **extra,
    }


def start(cli: str, env: dict[str, str], port: int, log: Path, worker: str | None) -> list[subprocess.Popen[bytes]]:
    """`<cli> serve` (the HTTP API, once `/ready` answers 200) and `<cli> <worker>` beside it, as deployments run
    them; or with no `worker`, `<cli> run` (HTTP with the relay and consumers in one process)."""
    if worker is None:
        return [serve(env, port, log, cli=cli, command="run", timeout=120)]
    background = log.with_name(f"{log.stem}_{worker}.log")
    process = subprocess.Popen([cli, worker], env=env, stdout=background.open("wb"), stderr=subprocess.STDOUT)
    try:
        return [serve(env, port, log, cli=cli, command="serve", timeout=120), process]
    except BaseException:
        stop(process)
        raise


def stop(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


async def group_at_ends(connection: KafkaConnection, prefix: str, seconds: float = 30) -> str:
    """Set the projector's group to the topics' ends; a consumer of a previous run (static membership) stays a
    member until its session times out (10 s), and Kafka refuses to move a group with members meanwhile."""
    deadline = time.monotonic() + seconds
    while True:
        ends = await end_offsets(connection, [topic(prefix, s) for s in FOLDED])
        moved, note = await move_group(connection, prefix + GROUP, ends)
        if moved:
            return note
        if time.monotonic() > deadline:
            raise RuntimeError(note)
        await asyncio.sleep(2)


# --- preparing the commands ------------------------------------------------------------------------------------


def course_count(commands: int, rate: float) -> int:
    return max(math.ceil(commands / PER_COURSE), math.ceil(rate * REVISIT_SECONDS))


async def prepare(url: str, token: str, commands: int, courses: int) -> list[tuple[str, str]]:
    """`courses` courses with their share of enrolled trainees; (course id, trainee id) per command, command k on
    course k mod C (a course is hit again only after C commands, so concurrent commands do not race on it)."""
    per_course = math.ceil(commands / courses)
    headers = {"authorization": f"Bearer {token}"}
    rosters: list[tuple[str, list[str]]] = []
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
        for c in range(courses):
            answer = await client.post("/courses", json=COURSE)
            answer.raise_for_status()
            course_id = answer.json()["id"]
            rows = [
                f"Học viên {c}-{t},1990-05-14,083{c * per_course + t:09d},,enterprise,,,2025-04-01,1"
                for t in range(per_course)
            ]
            imported = await client.post(
                f"/courses/{course_id}/attendance/import",
                content="\n".join([IMPORT_HEADER, *rows]).encode(),
                headers={"content-type": "text/csv"},
            )
            if imported.status_code != 201:
                raise RuntimeError(f"import into {course_id}: {imported.status_code} {imported.text[:2000]}")
            rosters.append((course_id, list(dict.fromkeys(imported.json()["trainee_ids"]))))
    if any(len(ids) != per_course for _, ids in rosters):
        raise RuntimeError(f"a roster does not hold {per_course} trainees: {[len(ids) for _, ids in rosters]}")
    return [(rosters[k % courses][0], rosters[k % courses][1][k // courses]) for k in range(commands)]


async def reporting_lag(servers: str, prefix: str) -> int:
    """Records of the folded topics the projector's group has not committed yet."""
    from aiokafka import AIOKafkaConsumer

    ends = await end_offsets(KafkaConnection(bootstrap_servers=servers), [topic(prefix, s) for s in FOLDED])
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, group_id=prefix + GROUP, enable_auto_commit=False)
    await consumer.start()
    try:
        lag = 0
        for partition, end in ends.items():
            lag += max(end - (await consumer.committed(partition) or 0), 0)
        return lag
    finally:
        await consumer.stop()


async def settle(servers: str, prefix: str, training_db: str, published_before: int, seconds: float = 600) -> float:
    """Wait until training's relay has published every stored event and the projector has no lag (twice in a
    row, 0.5 s apart); returns the seconds waited."""
    started = time.monotonic()
    calm = 0
    while time.monotonic() - started < seconds:
        connection = await asyncpg.connect(training_db.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            stored = await connection.fetchval("SELECT count(*) FROM events")
        finally:
            await connection.close()
        training = await end_offsets(KafkaConnection(bootstrap_servers=servers), [topic(prefix, "training")])
        published = sum(training.values()) - published_before
        calm = calm + 1 if published >= stored and await reporting_lag(servers, prefix) == 0 else 0
        if calm >= 2:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise TimeoutError(f"the platform did not settle in {seconds:.0f}s")


# --- one timed phase -------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Sent:
    k: int
    scheduled: float
    sent: float
    acked: float
    acked_wall: float  # time.time() at the acknowledgement, to compare with Kafka's record timestamps
    status: str


@dataclass(slots=True)
class Poll:
    started: float
    ended: float
    value: float | None


async def phase(
    name: str,
    commands: list[tuple[str, str]],
    rate: float,
    args: argparse.Namespace,
    training: Client,
    reporting: Client,
    pids: dict[str, list[int]],
) -> dict[str, Any]:
    kpi = f"/kpis/person-times-trained?as_of={args.as_of}" + ("&breakdowns=false" if args.value_only else "")
    status, answer = await reporting.request("GET", kpi, None)
    if status != 200:
        raise RuntimeError(f"GET {kpi}: {status} {answer[:500]!r}")
    base = float(json.loads(answer)["value"])
    cpu_before = {pid: cpu_seconds(pid) for ids in pids.values() for pid in ids}
    training_topic = topic(args.prefix_in_use, "training")
    offsets_before = await end_offsets(KafkaConnection(bootstrap_servers=args.servers), [training_topic])
    sent: list[Sent] = []
    polls: list[Poll] = []
    done_sending = asyncio.Event()
    queue: asyncio.Queue[tuple[int, float] | None] = asyncio.Queue()

    async def schedule(origin: float) -> None:
        for k in range(len(commands)):
            at = origin + k / rate
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            queue.put_nowait((k, at))
        for _ in range(args.senders):
            queue.put_nowait(None)

    async def send() -> None:
        while (item := await queue.get()) is not None:
            k, at = item
            course_id, trainee_id = commands[k]
            body = {"trainee_id": trainee_id, "passed": True, "completed_on": "2025-04-03"}
            began = time.perf_counter()
            try:
                code, _ = await asyncio.wait_for(
                    training.request("POST", f"/courses/{course_id}/completions", body), args.timeout
                )
                outcome = str(code)
            except Exception as error:  # a timeout or a dropped connection: counted, not fatal
                outcome = type(error).__name__
            sent.append(Sent(k, at, began, time.perf_counter(), time.time(), outcome))

    async def poll() -> None:
        deadline = math.inf
        while True:
            began = time.perf_counter()
            if polls and began - polls[-1].started < args.poll_interval:  # a cached answer comes back in ~2 ms
                await asyncio.sleep(polls[-1].started + args.poll_interval - began)
                began = time.perf_counter()
            code, answer = await reporting.request("GET", kpi, None)
            value = float(json.loads(answer)["value"]) if code == 200 else None
            polls.append(Poll(began, time.perf_counter(), value))
            if done_sending.is_set():
                acked = sum(1 for s in sent if s.status == "201")
                if value is not None and value >= base + acked:
                    return
                deadline = min(deadline, time.perf_counter() + args.drain_seconds)
                if time.perf_counter() > deadline:
                    return

    with LoadSampler() as load:
        poller = asyncio.create_task(poll())
        origin = time.perf_counter() + 0.05
        await asyncio.gather(schedule(origin), *(send() for _ in range(args.senders)))
        done_sending.set()
        await poller
    # per process, in start order: `serve`, then the relay or the projector's `consume` (or `run` alone)
    cpu = {service: [round(cpu_seconds(pid) - cpu_before[pid], 2) for pid in ids] for service, ids in pids.items()}
    on_topic = await completions_on_topic(args.servers, offsets_before)
    relayed = [
        (on_topic[commands[s.k]] / 1000 - s.acked_wall) * 1000
        for s in sorted(sent, key=lambda s: s.acked)
        if s.status == "201" and commands[s.k] in on_topic
    ]
    outcome = summarise(name, rate, base, sent, polls, load, cpu, origin)
    outcome["ack_to_topic_ms"] = _ms(relayed) | {"found": len(relayed)}
    outcome["samples_ms"]["ack_to_topic"] = [round(x, 1) for x in relayed]  # in acknowledgement order
    return outcome


async def completions_on_topic(servers: str, starts: dict[Any, int]) -> dict[tuple[str, str], int]:
    """Kafka's timestamp (ms, set by training's relay as it sends) of each completion published after `starts`."""
    from aiokafka import AIOKafkaConsumer

    ends = await end_offsets(KafkaConnection(bootstrap_servers=servers), sorted({tp.topic for tp in starts}))
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, group_id=None, enable_auto_commit=False)
    await consumer.start()
    found: dict[tuple[str, str], int] = {}
    try:
        wanted = [tp for tp in ends if ends[tp] > starts.get(tp, 0)]
        consumer.assign(wanted)
        for tp in wanted:
            consumer.seek(tp, starts.get(tp, 0))
        remaining = set(wanted)
        while remaining:
            for tp, records in (await consumer.getmany(*remaining, timeout_ms=1000)).items():
                for record in records:
                    envelope = Envelope.from_kafka(record.headers, record.value)
                    if envelope.type.endswith(".trainee-completed.v1"):
                        found[(envelope.data["course_id"], envelope.data["trainee_id"])] = record.timestamp
                if records and records[-1].offset + 1 >= ends[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    return found


def summarise(
    name: str,
    rate: float,
    base: float,
    sent: list[Sent],
    polls: list[Poll],
    load: LoadSampler,
    cpu: dict[str, list[float]],
    origin: float,
) -> dict[str, Any]:
    acked = sorted(s.acked for s in sent if s.status == "201")
    latencies: list[float] = []
    j = 0
    for k, ack in enumerate(acked, 1):  # polls are sequential: the first fit for k+1 is never before k's
        while j < len(polls) and not (
            polls[j].started > ack and polls[j].value is not None and polls[j].value >= base + k
        ):
            j += 1
        if j == len(polls):
            break
        latencies.append((polls[j].ended - ack) * 1000)
    durations = [(p.ended - p.started) * 1000 for p in polls]
    last_value = next((p.value for p in reversed(polls) if p.value is not None), None)
    span = (max(acked) - origin) if acked else 0.0
    return {
        "phase": name,
        "rate_target": rate,
        "commands": {
            "sent": len(sent),
            "acked": len(acked),
            "failed": dict(Counter(s.status for s in sent if s.status != "201")),
            "achieved_rate": round(len(acked) / span, 1) if span else None,
            "send_late_ms": _ms([(s.sent - s.scheduled) * 1000 for s in sent]),
            "ack_latency_ms": _ms([(s.acked - s.sent) * 1000 for s in sent if s.status == "201"]),
        },
        "visible_ms": _ms(latencies) | {"visible": len(latencies), "not_visible": len(acked) - len(latencies)},
        "kpi": {"base": base, "final": last_value, "final_minus_expected": (last_value or 0) - base - len(acked)},
        "polls": {"count": len(polls), "errors": sum(p.value is None for p in polls)} | _ms(durations),
        "service_cpu_s": {service: round(sum(each), 2) for service, each in cpu.items()},
        "process_cpu_s": cpu,
        "load_1min": load.summary(),
        "samples_ms": {"visible": [round(x, 1) for x in latencies]},  # the k-th acknowledged command's, k = 1, 2, ...
    }


def _ms(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    return {
        "p50": round(statistics.median(values), 1),
        "p95": round(percentile(values, 95), 1),
        "p99": round(percentile(values, 99), 1),
        "max": round(max(values), 1),
    }


# --- the run ---------------------------------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> dict[str, Any]:
    servers, admin = infra.kafka_bootstrap(), infra.postgres_url()
    prefix = args.prefix or f"benchc2k{uuid.uuid4().hex[:6]}."
    args.prefix_in_use, args.servers = prefix, servers
    result: dict[str, Any] = {"machine": machine(), "prefix": prefix, "load_before": list(os.getloadavg())}
    print(f"machine: {result['machine']}, load {result['load_before']}", flush=True)
    per_topic: Counter[str] = Counter(json.loads(args.topic_counts))
    reporting_db = args.database_url
    training_db = await infra.create_database(admin, prefix="bench_training")
    processes: dict[str, list[subprocess.Popen[bytes]]] = {}
    try:
        if not args.prefix:
            with LoadSampler() as load:
                # event and entity ids of version 7, as the platform makes them
                per_topic, _, seconds = await publish(servers, prefix, args.events, args.partitions, "v7", "v7")
            result["publish"] = {"events": sum(per_topic.values()), "seconds": round(seconds, 1)} | {
                "load": load.summary()
            }
            print(f"published: {result['publish']}", flush=True)
        result["read_model_events"] = sum(per_topic.values())
        connection = KafkaConnection(bootstrap_servers=servers)
        ensure_topics(connection, [TopicSpec(topic(prefix, s), args.partitions, 1) for s in FOLDED])
        extra = {"REPORTING_EVALUATION_DATE": "2025-12-31"}
        if args.evaluation_interval is not None:
            extra["REPORTING_EVALUATION_INTERVAL"] = str(args.evaluation_interval)
        if reporting_db is None:
            reporting_db = await infra.create_database(admin, prefix="bench_reporting")
            env = environment(prefix, servers, REPORTING_DATABASE_URL=reporting_db, **extra)
            with LoadSampler() as load:
                result["rebuild"] = rebuild(env, args.batch_size) | {"load": load.summary()}
            print(f"rebuild: {result['rebuild']['events']} events in {result['rebuild']['replay_s']}s", flush=True)
        print(f"projector group: {await group_at_ends(connection, prefix)}", flush=True)
        training_start = sum((await end_offsets(connection, [topic(prefix, "training")])).values())

        port = 18000 + random.randrange(1000)
        logs = REPO / "bench" / "results"
        logs.mkdir(exist_ok=True)
        reporting_env = environment(prefix, servers, REPORTING_DATABASE_URL=reporting_db, **extra)
        training_env = environment(prefix, servers, TRAINING_DATABASE_URL=training_db)
        deployed = args.shape == "deployed"
        result["shape"] = args.shape
        processes["reporting"] = start(
            REPORTING_CLI, reporting_env, port, logs / "command_to_kpi_reporting.log", "consume" if deployed else None
        )
        processes["training"] = start(
            TRAINING_CLI, training_env, port + 1, logs / "command_to_kpi_training.log", "relay" if deployed else None
        )
        token = issue_dev_token(SECRET, "bench-trainer", ["trainer"], "83")

        single = int(args.single_seconds)
        total = single + int(args.rate * args.seconds)
        started = time.monotonic()
        courses = course_count(total, args.rate)
        commands = await prepare(f"http://127.0.0.1:{port + 1}", token, total, courses)
        result["prepare"] = {
            "courses": courses,
            "trainees": courses * math.ceil(total / courses),
            "seconds": round(time.monotonic() - started, 1),
        }
        print(f"prepared: {result['prepare']}", flush=True)

        training = Client(port + 1, {"authorization": f"Bearer {token}"})
        reporting = Client(port, {})
        pids = {name: [process.pid for process in started] for name, started in processes.items()}
        result["phases"] = []
        try:
            plan = [("one at a time", 1.0, commands[:single])] if single else []
            if total > single:
                plan.append((f"{args.rate:g}/s for {args.seconds:g}s", args.rate, commands[single:]))
            for name, rate, chosen in plan:
                waited = await settle(servers, prefix, training_db, training_start)
                print(f"settled in {waited:.1f}s; phase {name}: {len(chosen)} commands", flush=True)
                outcome = await phase(name, chosen, rate, args, training, reporting, pids)
                result["phases"].append(outcome | {"settled_s": round(waited, 1)})
                report(outcome)
            if len(result["phases"]) == 2:  # the peer in the same run: the same platform, one command at a time
                single_p99, sustained_p99 = (p["visible_ms"]["p99"] for p in result["phases"])
                if single_p99 and sustained_p99:
                    result["visible_p99_sustained_over_one_at_a_time"] = round(sustained_p99 / single_p99, 2)
        finally:
            await training.close()
            await reporting.close()
    finally:
        for started in processes.values():
            for process in started:
                stop(process)
        result["load_after"] = list(os.getloadavg())
        if args.keep:
            topic_counts = {name: count for name, count in (await topic_sizes(servers, prefix)).items() if count}
            result["kept"] = {"prefix": prefix, "database_url": reporting_db, "training_database_url": training_db}
            print(f"kept: {result['kept']}, --topic-counts '{json.dumps(topic_counts)}'", flush=True)
        else:
            await infra.drop_database(admin, training_db)
            if not args.database_url and reporting_db:
                await infra.drop_database(admin, reporting_db)
            if not args.prefix:
                infra.delete_topics_beginning_with(servers, [prefix])  # the log and the services' own topics
    return result


async def topic_sizes(servers: str, prefix: str) -> dict[str, int]:
    connection = KafkaConnection(bootstrap_servers=servers)
    ends = await end_offsets(connection, [topic(prefix, s) for s in FOLDED])
    sizes: Counter[str] = Counter()
    for partition, end in ends.items():
        sizes[partition.topic] += end
    return dict(sizes)


def report(outcome: dict[str, Any]) -> None:
    c, v, p = outcome["commands"], outcome["visible_ms"], outcome["polls"]
    print(
        f"  {outcome['phase']}: sent {c['sent']}, acked {c['acked']}, failed {c['failed'] or 0}, "
        f"achieved {c['achieved_rate']}/s; send late p99 {c['send_late_ms']['p99']} ms, "
        f"ack p50/p99 {c['ack_latency_ms']['p50']}/{c['ack_latency_ms']['p99']} ms\n"
        f"  visible: p50 {v['p50']} p95 {v['p95']} p99 {v['p99']} max {v['max']} ms "
        f"({v['visible']} visible, {v['not_visible']} not); KPI {outcome['kpi']}\n"
        f"  ack -> on topic: {outcome['ack_to_topic_ms']}\n"
        f"  polls: {p['count']} (errors {p['errors']}), p50 {p['p50']} p99 {p['p99']} ms; "
        f"service CPU {outcome['service_cpu_s']} s (per process {outcome['process_cpu_s']}); "
        f"load {outcome['load_1min']}",
        flush=True,
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000, help="events of the read model's log")
    parser.add_argument("--rate", type=float, default=100.0, help="commands per second in the sustained phase")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the sustained phase")
    parser.add_argument("--single-seconds", type=float, default=30.0, help="a phase at 1 command/s first (0: none)")
    parser.add_argument("--senders", type=int, default=16, help="concurrent senders (keep-alive connections)")
    parser.add_argument("--poll-interval", type=float, default=0.01, help="least seconds between poll starts")
    parser.add_argument("--as-of", default="2025-12-31", help="the KPI's as_of (counts the completions)")
    parser.add_argument(
        "--value-only",
        action="store_true",
        help="poll with breakdowns=false: the value and its details, without the per-course breakdown",
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a command may take before it fails")
    parser.add_argument("--drain-seconds", type=float, default=120.0, help="polling after the last command")
    parser.add_argument(
        "--shape",
        choices=["deployed", "single-process"],
        default="deployed",
        help="serve beside relay / consume, as deployments run them; or `run`, all in one process per service",
    )
    parser.add_argument("--evaluation-interval", type=float, help="REPORTING_EVALUATION_INTERVAL (service default)")
    parser.add_argument("--batch-size", type=int, default=2000, help="records per rebuild transaction")
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="leave the topics and the databases")
    parser.add_argument("--prefix", help="reuse topics published by reporting_million.py --keep (skips publishing)")
    parser.add_argument("--topic-counts", default="{}", help="with --prefix: JSON {topic: messages}")
    parser.add_argument("--database-url", help="with --prefix: the read model it left (skips the rebuild)")
    arguments = parser.parse_args()
    if arguments.database_url and not arguments.prefix:
        sys.exit("--database-url needs --prefix (the topics that read model was built from)")
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    outcome = asyncio.run(main(arguments))
    outcome = {"benchmark": "command_to_kpi", "command": " ".join([".venv/bin/python", *sys.argv])} | outcome
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(outcome, indent=2, default=str))
    print(f"results: {RESULTS}")
