"""What the projector does when applying fails: retry with backoff, then park the event, never spin or skip."""

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy.exc import OperationalError

from metrology.eventkit import EventContext
from metrology.eventkit.database import create_engine, create_schema, session_factory
from metrology.eventkit.envelope import Envelope
from metrology.eventkit.projector import ProjectorRunner, RetryPolicy
from metrology.eventkit.store import metadata
from metrology.testkit.sample_events import ThingCounted, ThingTotals, read_totals, totals_metadata


@dataclass
class FakeRecord:
    value: bytes
    headers: list
    key: bytes = b"k"
    topic: str = "t"
    partition: int = 0
    offset: int = 0


def record(thing: str, offset: int) -> FakeRecord:
    envelope = Envelope.wrap(
        ThingCounted(occurred_on=date(2025, 1, 1), thing=thing, amount=1),
        source="/test",
        stream_id=f"thing-{thing}",
        stream_version=1,
        context=EventContext(tenant="83"),
    )
    key, value, headers = envelope.to_kafka()
    return FakeRecord(value, headers, key, offset=offset)


class FailsOn(ThingTotals):
    """Thing totals that fail on some things: `times` failures each (forever when None)."""

    def __init__(self, failures: dict[str, int | None], error: Exception) -> None:
        super().__init__()
        self.failures = failures
        self.error = error

    async def apply(self, session, envelope, event):
        if event.thing in self.failures:
            left = self.failures[event.thing]
            if left is None or left > 0:
                self.failures[event.thing] = None if left is None else left - 1
                raise self.error
        await super().apply(session, envelope, event)


class Letters:
    def __init__(self) -> None:
        self.sent: list = []

    async def send(self, letters) -> None:
        self.sent += letters


@pytest.fixture
async def sessions(tmp_path):
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/p.db")
    await create_schema(engine, metadata, totals_metadata)
    yield session_factory(engine), engine
    await engine.dispose()


async def no_wait(_: float) -> None:
    return None


async def test_an_event_that_always_fails_to_apply_is_dead_lettered_after_bounded_retries_and_the_rest_applied(
    sessions,
):
    factory, engine = sessions
    letters = Letters()
    projection = FailsOn({"broken": None}, RuntimeError("invariant broken"))
    runner = ProjectorRunner(factory, projection, letters, RetryPolicy(attempts=3), sleep=no_wait)

    result = await runner.handle([record("a", 0), record("broken", 1), record("b", 2)])

    assert await read_totals(engine) == {"a": (1, 1), "b": (1, 1)}
    [letter] = letters.sent
    assert letter.record.offset == 1
    assert "apply failed after 3 attempts: RuntimeError: invariant broken" in letter.reason
    assert result.applied == 2 and runner.stats.dead_lettered == 1


async def test_a_passing_failure_is_retried_with_backoff_and_nothing_is_dead_lettered(sessions):
    factory, engine = sessions
    letters, waits = Letters(), []

    async def note_wait(seconds: float) -> None:
        waits.append(seconds)

    projection = FailsOn({"a": 2}, RuntimeError("lock timeout"))
    runner = ProjectorRunner(factory, projection, letters, RetryPolicy(attempts=4, first_delay=0.1), sleep=note_wait)

    result = await runner.handle([record("a", 0), record("b", 1)])

    assert await read_totals(engine) == {"a": (1, 1), "b": (1, 1)}
    assert letters.sent == [] and result.retries == 2
    assert waits == [0.1, 0.2], "each retry waits longer"


async def test_a_database_outage_is_raised_for_redelivery_never_dead_lettered(sessions):
    factory, engine = sessions
    letters = Letters()
    outage = OperationalError("INSERT ...", {}, ConnectionRefusedError("the database is down"))
    runner = ProjectorRunner(factory, FailsOn({"a": None}, outage), letters, RetryPolicy(attempts=3), sleep=no_wait)

    with pytest.raises(OperationalError):
        await runner.handle([record("a", 0), record("b", 1)])

    assert letters.sent == []
    assert await read_totals(engine) == {}, "nothing of the batch is committed; it comes again"


async def test_a_record_with_attributes_of_the_wrong_kind_is_dead_lettered_not_a_crash(sessions):
    factory, _ = sessions
    letters = Letters()
    bad = record("a", 0)
    bad.headers = [(n, v) for n, v in bad.headers if n != "ce_id"] + [("ce_id", b"")]
    structured_null_id = FakeRecord(
        b'{"specversion": "1.0", "id": null, "type": "vn.metrology.test.thing-counted.v2", "source": "/t",'
        b' "time": "2025-01-01T00:00:00Z", "streamid": "s", "streamversion": 1, "tenant": "83",'
        b' "correlationid": "c", "data": {}}',
        [("content-type", b"application/cloudevents+json")],
        offset=1,
    )
    runner = ProjectorRunner(factory, ThingTotals(), letters, sleep=no_wait)

    result = await runner.handle([bad, structured_null_id, record("b", 2)])

    assert [letter.record.offset for letter in letters.sent] == [0, 1]
    assert all("'id' must be a non-empty string" in letter.reason for letter in letters.sent)
    assert result.applied == 1


async def test_an_event_whose_data_does_not_fit_its_model_is_dead_lettered_with_the_reason_and_an_unknown_type_ignored(
    sessions,
):
    factory, engine = sessions
    letters = Letters()
    unfit = record("a", 0)
    unfit.value = b'{"occurred_on": "2025-01-01", "thing": "a", "amount": "many"}'
    unknown = record("b", 1)
    unknown.headers = [(n, b"vn.metrology.test.unknown.v1" if n == "ce_type" else v) for n, v in unknown.headers]
    runner = ProjectorRunner(factory, ThingTotals(), letters, sleep=no_wait)

    result = await runner.handle([unfit, unknown, record("c", 2)])

    assert [letter.record.offset for letter in letters.sent] == [0]
    assert letters.sent[0].reason.startswith(
        "EventParseError: 'vn.metrology.test.thing-counted.v2' data does not fit its model: 1 validation error"
    )
    assert (result.applied, result.ignored) == (1, 1)
    assert await read_totals(engine) == {"c": (1, 1)}
