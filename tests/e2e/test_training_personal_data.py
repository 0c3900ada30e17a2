"""Training as a process on real Kafka and PostgreSQL: trainees' personal data is encrypted per person, erasure
makes every copy unreadable, and the person-times KPI counted by reporting does not move."""

import asyncio
import time

import asyncpg
import httpx
import pytest
from kafka import KafkaConsumer

from metrology.eventkit.envelope import Envelope
from metrology.testkit.records import record_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

NAME, ID_NUMBER, PHONE = "Võ Thị Thanh Xuân", "083195004567", "0918765432"
ORGANISATION = "Công ty TNHH Cơ khí Mỏ Cày"
COURSE = {
    "title": "Kiểm định cân ô tô",
    "topic": "verification of weighbridges",
    "field": "mass",
    "audience": "verifiers",
    "organiser": "Chi cục TĐC Bến Tre",
    "trainer": "Trung tâm Kỹ thuật TĐC 3",
    "starts_on": "2025-05-05",
    "ends_on": "2025-05-06",
    "pass_mark": 60,
}


def wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what} not reached in time")


def kpi(reporting: httpx.Client) -> float:
    response = reporting.get("/kpis/person-times-trained", params={"as_of": "2025-12-31"})
    response.raise_for_status()
    return response.json()["value"]


def topic_records(platform) -> list[tuple[list, bytes]]:
    consumer = KafkaConsumer(
        f"{platform.prefix}metrology.training.v1",
        bootstrap_servers=platform.kafka_bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=3000,
    )
    try:
        return [(list(record.headers), record.value) for record in consumer]
    finally:
        consumer.close()


async def stored_bytes(url: str) -> tuple[list[bytes], bytes, int]:
    """The events table's payloads, a text dump of every other table, and how many data keys are held."""
    connection = await asyncpg.connect(url)
    try:
        payloads = [bytes(r["payload"]) for r in await connection.fetch("SELECT payload FROM events")]
        dump = b""
        for table in ("trainees", "enrolments", "attendance", "courses", "idempotency_keys"):
            rows = await connection.fetch(f"SELECT * FROM {table}")
            dump += repr([dict(r) for r in rows]).encode()
        keys = await connection.fetchval("SELECT count(*) FROM trainee_keys")
    finally:
        await connection.close()
    return payloads, dump, keys


def assert_no_plaintext(blob: bytes) -> None:
    for secret in (NAME, ID_NUMBER, PHONE, "1995-02-03", ORGANISATION):
        assert secret.encode() not in blob, f"{secret!r} found in clear"


def test_an_erased_trainee_cannot_be_read_back_and_the_kpi_stays(platform):
    training = platform.start("training")
    reporting_process = platform.start("reporting")
    trainer = httpx.Client(base_url=training.url, headers={"Authorization": f"Bearer {platform.token('trainer')}"})
    viewer = httpx.Client(base_url=training.url, headers={"Authorization": f"Bearer {platform.token('viewer')}"})
    reporting = httpx.Client(
        base_url=reporting_process.url, headers={"Authorization": f"Bearer {platform.token('viewer')}"}
    )
    person = {
        "full_name": NAME,
        "date_of_birth": "1995-02-03",
        "id_number": ID_NUMBER,
        "phone": PHONE,
        "organisation_kind": "enterprise",
        "organisation_name": ORGANISATION,
    }
    trainee_id = trainer.post("/trainees", json=person).json()["id"]
    course_id = trainer.post("/courses", json=COURSE).json()["id"]
    assert trainer.post(f"/courses/{course_id}/trainees", json={"trainee_id": trainee_id}).status_code == 201
    for day in ("2025-05-05", "2025-05-06"):
        attended = trainer.post(f"/courses/{course_id}/attendance", json={"trainee_id": trainee_id, "day": day})
        assert attended.status_code == 201, attended.text
    score = {"trainee_id": trainee_id, "score": 78, "assessed_on": "2025-05-06"}
    assert trainer.post(f"/courses/{course_id}/assessments", json=score).status_code == 201
    done = {"trainee_id": trainee_id, "passed": True, "completed_on": "2025-05-06"}
    assert trainer.post(f"/courses/{course_id}/completions", json=done).status_code == 201
    assert trainer.get(f"/trainees/{trainee_id}").json()["full_name"] == NAME
    assert "full_name" not in viewer.get(f"/trainees/{trainee_id}").json(), "a viewer sees no names"
    roster = trainer.get(f"/courses/{course_id}/trainees").json()["items"]
    assert (roster[0]["days_present"], roster[0]["passed"], roster[0]["id_number"]) == (2, True, ID_NUMBER)
    assert NAME not in viewer.get(f"/courses/{course_id}/trainees", params={"format": "csv"}).text
    wait_for(lambda: kpi(reporting) == 1, what="the completion counted")

    erased = trainer.delete(f"/trainees/{trainee_id}/personal-data")
    assert erased.status_code == 200, erased.text
    assert trainer.delete(f"/trainees/{trainee_id}/personal-data").status_code == 409
    after = trainer.get(f"/trainees/{trainee_id}").json()
    assert (after["full_name"], after["id_number"], after["personal_data"]) == ("erased", "erased", "erased")
    assert NAME not in trainer.get(f"/courses/{course_id}/trainees", params={"format": "csv"}).text

    records = wait_for(
        lambda: (
            (found := topic_records(platform))
            and any(Envelope.from_kafka(*r).type.endswith("trainee-erased.v1") for r in found)
            and found
        ),
        what="the erasure published",
    )
    registered = [e for e in (Envelope.from_kafka(*r) for r in records) if "trainee-registered" in e.type]
    assert registered[0].data["personal"]["full_name"], "the name travels, as ciphertext only"
    assert_no_plaintext(b"".join(record_bytes(*r) for r in records))
    payloads, tables, keys = asyncio.run(stored_bytes(platform.database_urls["training"]))
    assert_no_plaintext(b"".join(payloads) + tables)
    assert keys == 0, "the person's data key is destroyed: the ciphertext can never be opened again"
    platform.wait_caught_up("reporting")  # reporting has consumed the erasure too
    assert kpi(reporting) == 1, "erasure does not change person-times trained"


def test_attendance_lists_import_from_csv_and_xlsx_all_or_nothing(platform):
    from pathlib import Path

    samples = Path(__file__).resolve().parents[2] / "services" / "training" / "samples"
    training = platform.start("training")
    trainer = httpx.Client(base_url=training.url, headers={"Authorization": f"Bearer {platform.token('trainer')}"})
    course = COURSE | {"starts_on": "2025-04-01", "ends_on": "2025-04-02"}
    course_id = trainer.post("/courses", json=course).json()["id"]
    url = f"/courses/{course_id}/attendance/import"

    bad = (samples / "attendance.csv").read_text(encoding="utf-8").replace("083192002222", "12ab", 1)
    refused = trainer.post(url, content=bad.encode(), headers={"Content-Type": "text/csv"})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert {k: refused.json()["errors"][0][k] for k in ("row", "field")} == {"row": 4, "field": "id_number"}
    assert trainer.get("/trainees").json()["total"] == 0, "nothing stored"

    out_of_course = (
        (samples / "attendance.csv")
        .read_text(encoding="utf-8")
        .replace("Chi cục TĐC Bến Tre,2025-04-01", "Chi cục TĐC Bến Tre,2025-04-09")
    )
    refused = trainer.post(url, content=out_of_course.encode(), headers={"Content-Type": "text/csv"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"row": 6, "field": "day", "reason": refused.json()["errors"][0]["reason"]}]
    assert trainer.get("/trainees").json()["total"] == 0, "nothing stored"

    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    imported = trainer.post(url, content=(samples / "attendance.xlsx").read_bytes(), headers={"Content-Type": xlsx})
    assert imported.status_code == 201, imported.text
    assert imported.json()["trainees_registered"] == 3
    again = trainer.post(url, content=(samples / "attendance.csv").read_bytes(), headers={"Content-Type": "text/csv"})
    assert again.status_code == 201, again.text
    assert (again.json()["trainees_registered"], again.json()["trainees_enrolled"]) == (0, 0), "people matched by ID"
    roster = {r["full_name"]: r["days_present"] for r in trainer.get(f"/courses/{course_id}/trainees").json()["items"]}
    assert roster == {"Nguyễn Văn Bình": 2, "Trần Thị Cúc": 1, "Phạm Minh Đức": 1}
    viewer = httpx.Client(base_url=training.url, headers={"Authorization": f"Bearer {platform.token('viewer')}"})
    assert viewer.post(url, content=b"x", headers={"Content-Type": "text/csv"}).status_code == 403
