"""The service kit at the HTTP edge: authentication, roles, problem details and Idempotency-Key replays."""

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa

from metrology.eventkit.store import events_table
from metrology.servicekit.app import create_app
from metrology.servicekit.auth import issue_dev_token
from metrology.training.bootstrap import bootstrap
from metrology.training.settings import TrainingSettings

SECRET = "test-secret-0123456789abcdef0123456789"
COURSE = {
    "title": "Hiệu chuẩn cân",
    "topic": "calibration of scales",
    "organiser": "Chi cục TĐC",
    "starts_on": "2025-06-02",
    "ends_on": "2025-06-04",
}


@pytest.fixture
async def service(sqlite_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    runtime = bootstrap(TrainingSettings.from_env("training", database_url=sqlite_url, auth_jwt_secret=SECRET))
    await runtime.migrate()
    app = create_app(runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://training") as client:
        yield client, runtime
    await runtime.dispose()


def auth(*roles: str, secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(secret, 'tester', roles)}"}


async def stored_events(runtime) -> int:
    async with runtime.engine.connect() as connection:
        return (await connection.execute(sa.select(sa.func.count()).select_from(events_table))).scalar_one()


async def test_a_command_without_a_token_is_refused_with_401_and_a_problem(service):
    client, runtime = service
    response = await client.post("/courses", json=COURSE)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert await stored_events(runtime) == 0


async def test_a_token_signed_with_another_key_is_refused(service):
    client, _ = service
    response = await client.post(
        "/courses", json=COURSE, headers=auth("trainer", secret="another-secret-0123456789abcdef-0123")
    )
    assert response.status_code == 401
    assert "invalid token" in response.json()["detail"]


async def test_a_role_without_the_right_gets_403(service):
    client, runtime = service
    response = await client.post("/courses", json=COURSE, headers=auth("viewer"))
    assert response.status_code == 403
    assert await stored_events(runtime) == 0


async def test_invalid_fields_are_each_named_in_the_problem_and_nothing_is_stored(service):
    client, runtime = service
    response = await client.post("/courses", json=COURSE | {"title": "x", "ends_on": "soon"}, headers=auth("trainer"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422 and problem["title"] == "Invalid request"
    assert {e["field"] for e in problem["errors"]} == {"body.title", "body.ends_on"}
    assert await stored_events(runtime) == 0


async def test_a_repeated_idempotency_key_returns_the_first_answer_and_writes_nothing_more(service):
    client, runtime = service
    headers = auth("trainer") | {"Idempotency-Key": "course-2025-06"}
    first = await client.post("/courses", json=COURSE, headers=headers)
    again = await client.post("/courses", json=COURSE, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert await stored_events(runtime) == 1


async def test_an_idempotency_key_reused_for_another_request_is_refused(service):
    client, runtime = service
    headers = auth("trainer") | {"Idempotency-Key": "k-1"}
    await client.post("/courses", json=COURSE, headers=headers)
    response = await client.post("/courses", json=COURSE | {"title": "Another course"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["rule"] == "idempotency-key-reused"
    assert await stored_events(runtime) == 1


async def test_health_answers_without_a_token(service):
    client, _ = service
    assert (await client.get("/health")).json() == {"status": "ok"}


async def test_openapi_documents_the_command_endpoints(service):
    client, _ = service
    spec = (await client.get("/openapi.json")).json()
    assert "/courses" in spec["paths"]
