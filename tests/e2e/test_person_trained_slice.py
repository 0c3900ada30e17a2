"""The first slice end to end: training records a completion, reporting's KPI rises by one."""

import asyncio
import time

import httpx
import pytest
import sqlalchemy as sa

from metrology.eventkit.database import create_engine
from metrology.eventkit.store import events_table

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

COURSE = {
    "title": "Kiểm định đồng hồ nước lạnh",
    "topic": "verification of cold-water meters",
    "organiser": "Chi cục TĐC Bến Tre",
    "starts_on": "2025-04-01",
    "ends_on": "2025-04-03",
}


def kpi(platform, token: str, as_of: str) -> float:
    response = httpx.get(
        f"{platform.url('reporting')}/kpis/person-times-trained",
        params={"as_of": as_of},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return response.json()["value"]


TRAINEE = {
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "1988-02-03",
    "id_number": "083088001234",
    "organisation_kind": "enterprise",
    "registered_on": "2025-03-20",
}


def enrolled_trainee(training: str, course_id: str, headers: dict[str, str]) -> str:
    """Register a trainee (personal data encrypted by the service) and enrol them in the course."""
    trainee = httpx.post(f"{training}/trainees", json=TRAINEE, headers=headers)
    assert trainee.status_code == 201, trainee.text
    trainee_id = trainee.json()["id"]
    enrolment = {"trainee_id": trainee_id, "enrolled_on": "2025-03-25"}
    response = httpx.post(f"{training}/courses/{course_id}/trainees", json=enrolment, headers=headers)
    assert response.status_code == 201, response.text
    return str(trainee_id)


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError("condition not reached in time")


def test_a_passed_completion_raises_person_times_trained_by_one(platform):
    platform.start("training")
    platform.start("reporting")
    trainer = {"Authorization": f"Bearer {platform.token('trainer')}"}
    viewer = platform.token("viewer")
    course = httpx.post(f"{platform.url('training')}/courses", json=COURSE, headers=trainer)
    assert course.status_code == 201, course.text
    course_id = course.json()["id"]
    before = kpi(platform, viewer, "2025-12-31")

    trainee_id = enrolled_trainee(platform.url("training"), course_id, trainer)
    completion = {"trainee_id": trainee_id, "passed": True, "completed_on": "2025-04-03"}
    response = httpx.post(
        f"{platform.url('training')}/courses/{course_id}/completions", json=completion, headers=trainer
    )
    assert response.status_code == 201, response.text

    wait_for(lambda: kpi(platform, viewer, "2025-12-31") == before + 1)
    assert kpi(platform, viewer, "2025-04-02") == before, "a completion counts from its own date, not before"


def test_bad_input_gets_a_problem_naming_the_field_and_stores_nothing(platform):
    platform.start("training")
    trainer = {"Authorization": f"Bearer {platform.token('trainer')}"}
    bad = COURSE | {"starts_on": "2025-02-30"}
    response = httpx.post(f"{platform.url('training')}/courses", json=bad, headers=trainer)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["body.starts_on"]
    reversed_dates = COURSE | {"starts_on": "2025-04-05"}
    response = httpx.post(f"{platform.url('training')}/courses", json=reversed_dates, headers=trainer)
    assert response.status_code == 422
    assert response.json()["rule"] == "course-dates"
    assert response.json()["errors"][0]["field"] == "ends_on"
    assert asyncio.run(stored_events(platform.database_urls["training"])) == 0


async def stored_events(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(sa.select(sa.func.count()).select_from(events_table))).scalar_one()
    finally:
        await engine.dispose()
