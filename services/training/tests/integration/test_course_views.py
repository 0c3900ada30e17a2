"""A course's query tables (its counts and its roster) follow every command on it, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.training.bootstrap import bootstrap
from metrology.training.settings import TrainingSettings

pytestmark = pytest.mark.integration

SECRET = "training-integration-secret-0123456789abcdef"
TRAINER = {"Authorization": f"Bearer {issue_dev_token(SECRET, 'user-trainer', ['trainer'], '83')}"}
COURSE = {"title": "Kiểm định cân ô tô", "topic": "weighbridges", "organiser": "Chi cục TĐC Bến Tre"}
DAYS = {"starts_on": "2025-05-05", "ends_on": "2025-05-06"}


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = TrainingSettings.from_env(
        "training", database_url=database_url, auth_jwt_secret=SECRET, run_consumers=False
    )
    runtime = bootstrap(settings)
    await runtime.migrate()
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://training", headers=TRAINER) as client:
        yield client
    await runtime.dispose()


async def created(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def trainee(client: httpx.AsyncClient, n: int) -> str:
    person = {
        "full_name": f"Nguyễn Văn {n}",
        "date_of_birth": "1990-01-01",
        "id_number": f"08319000{n:04d}",
        "phone": "0912345678",
        "organisation_kind": "enterprise",
        "organisation_name": "Công ty Cân Miền Tây",
    }
    return await created(await client.post("/trainees", json=person))


async def test_a_courses_counts_and_roster_follow_its_enrolments_assessments_and_completions(client):
    course_id = await created(await client.post("/courses", json=COURSE | DAYS))
    passes, fails, absent = [await trainee(client, n) for n in range(3)]
    for trainee_id in (passes, fails, absent):
        assert (
            await client.post(
                f"/courses/{course_id}/trainees", json={"trainee_id": trainee_id, "enrolled_on": "2025-05-02"}
            )
        ).status_code == 201
    for trainee_id, score in ((passes, 81), (fails, 42)):
        assessed = {"trainee_id": trainee_id, "score": score, "assessed_on": "2025-05-06"}
        assert (await client.post(f"/courses/{course_id}/assessments", json=assessed)).status_code == 201
    done = {"passed": True, "completed_on": "2025-05-06", "certificate_number": "CC-2025-001"}
    assert (
        await client.post(f"/courses/{course_id}/completions", json=done | {"trainee_id": passes})
    ).status_code == 201
    failed = {"trainee_id": fails, "passed": False, "completed_on": "2025-05-06"}
    assert (await client.post(f"/courses/{course_id}/completions", json=failed)).status_code == 201

    course = (await client.get(f"/courses/{course_id}")).json()
    assert (course["enrolled"], course["completed"], course["passed"]) == (3, 2, 1)
    roster = {row["trainee_id"]: row for row in (await client.get(f"/courses/{course_id}/trainees")).json()["items"]}
    seen = {
        trainee_id: (row["score"], row["passed"], row["certificate_number"], row["completed_on"], row["enrolled_on"])
        for trainee_id, row in roster.items()
    }
    assert seen == {
        passes: (81.0, True, "CC-2025-001", "2025-05-06", "2025-05-02"),
        fails: (42.0, False, None, "2025-05-06", "2025-05-02"),
        absent: (None, None, None, None, "2025-05-02"),
    }


async def test_an_attendance_import_that_enrols_people_counts_them_once_each_and_their_days_present(client):
    course_id = await created(await client.post("/courses", json=COURSE | DAYS))
    already = await trainee(client, 7)
    enrolled = {"trainee_id": already, "enrolled_on": "2025-05-02"}
    assert (await client.post(f"/courses/{course_id}/trainees", json=enrolled)).status_code == 201
    person = "Trần Thị {n},1991-02-03,08319100{n:04d},0912345678,enterprise,,Công ty Cân Miền Tây"
    sheet = "\n".join(
        [
            "full_name,date_of_birth,id_number,phone,organisation_kind,organisation_id,organisation_name,day,present",
            f"{person.format(n=1)},2025-05-05,yes",
            f"{person.format(n=1)},2025-05-06,yes",
            f"{person.format(n=2)},2025-05-05,no",
            "Nguyễn Văn 7,1990-01-01,083190000007,0912345678,enterprise,,Công ty Cân Miền Tây,2025-05-05,yes",
        ]
    )
    imported = await client.post(
        f"/courses/{course_id}/attendance/import", content=sheet.encode(), headers={"content-type": "text/csv"}
    )
    assert imported.status_code == 201, imported.text
    assert (imported.json()["trainees_enrolled"], imported.json()["attendance_recorded"]) == (2, 4)

    course = (await client.get(f"/courses/{course_id}")).json()
    assert (course["enrolled"], course["completed"], course["passed"]) == (3, 0, 0)
    roster = (await client.get(f"/courses/{course_id}/trainees")).json()["items"]
    assert sorted(row["days_present"] for row in roster) == [0, 1, 2]
