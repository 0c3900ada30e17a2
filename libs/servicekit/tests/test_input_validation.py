"""What no column can hold is refused with a 422 problem naming the field: NUL characters, integers beyond int64,
NaN and Infinity (kit-wide, before the route), dates outside 1900-2200 and counts beyond int32 (bounded types)."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI, Request
from httpx import ASGITransport, AsyncClient
from pydantic import BaseModel

from metrology.servicekit.limits import BodyLimit
from metrology.servicekit.problems import install_problem_handlers
from metrology.servicekit.responses import document_problem_responses
from metrology.servicekit.validation import INT64_MAX, Count, Day, Finite, InputGuard, Offset


class ReadingIn(BaseModel):
    taken_on: Day
    value: Finite
    count: Count = 0
    labels: list[str] = []


def app() -> FastAPI:
    api = FastAPI()
    install_problem_handlers(api)

    @api.post("/readings", responses={404: {"description": "no such instrument"}})
    async def record(body: ReadingIn) -> dict[str, Any]:
        return body.model_dump(mode="json")

    @api.get("/readings")
    async def page(offset: Offset = 0, label: str | None = None) -> dict[str, Any]:
        return {"offset": offset, "label": label}

    @api.post("/uploads")
    async def upload(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    document_problem_responses(api)
    api.add_middleware(InputGuard)
    api.add_middleware(BodyLimit, fastapi=api, body_bytes=1000, upload_bytes=1000)
    return api


@pytest.fixture
async def client() -> Any:
    async with AsyncClient(transport=ASGITransport(app=app()), base_url="http://kit") as c:
        yield c


READING = {"taken_on": "2025-05-14", "value": 10.0003}


def fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [error["field"] for error in response.json()["errors"]]


async def test_a_nul_character_anywhere_in_a_json_body_is_refused_naming_its_place(client: AsyncClient) -> None:
    response = await client.post("/readings", json=READING | {"labels": ["ok", "bad\x00"]})
    assert fields(response) == ["body.labels.1"]


async def test_a_nul_character_in_a_query_string_or_path_is_refused(client: AsyncClient) -> None:
    assert fields(await client.get("/readings", params={"label": "a\x00b"})) == ["query.label"]
    assert fields(await client.get("/readings%00")) == ["path"]


@pytest.mark.parametrize("beyond", [INT64_MAX + 1, 2**64 + 1, -(2**70) - 3])
async def test_an_integer_beyond_int64_in_a_body_is_refused_even_where_the_route_would_take_a_float(
    client: AsyncClient, beyond: int
) -> None:
    response = await client.post("/readings", json=READING | {"value": beyond})
    assert fields(response) == ["body.value"]
    assert response.json()["errors"][0]["type"] == "int_out_of_range"


async def test_int64_itself_passes_the_guard_to_the_route(client: AsyncClient) -> None:
    assert (await client.post("/readings", json=READING | {"value": INT64_MAX})).status_code == 200
    assert fields(await client.post("/readings", json=READING | {"count": INT64_MAX})) == ["body.count"]  # int32


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_nan_and_infinity_are_refused_in_a_json_body(client: AsyncClient, number: str) -> None:
    body = f'{{"taken_on": "2025-05-14", "value": {number}}}'
    response = await client.post("/readings", content=body, headers={"content-type": "application/json"})
    assert fields(response) == ["body.value"]


@pytest.mark.parametrize("day", ["9999-06-01", "1899-12-31", "2201-01-01"])
async def test_a_date_outside_1900_to_2200_is_refused(client: AsyncClient, day: str) -> None:
    assert fields(await client.post("/readings", json=READING | {"taken_on": day})) == ["body.taken_on"]


async def test_an_offset_beyond_int64_is_refused(client: AsyncClient) -> None:
    assert fields(await client.get("/readings", params={"offset": INT64_MAX + 1})) == ["query.offset"]
    assert (await client.get("/readings", params={"offset": INT64_MAX})).json()["offset"] == INT64_MAX


async def test_bodies_within_bounds_and_bodies_that_are_not_json_reach_the_route(client: AsyncClient) -> None:
    assert (await client.post("/readings", json=READING)).json()["value"] == 10.0003
    csv = b"name\nbad\x00cell\n"
    response = await client.post("/uploads", content=csv, headers={"content-type": "text/csv"})
    assert response.json() == {"bytes": len(csv)}


async def test_a_json_body_past_the_limit_is_still_answered_413(client: AsyncClient) -> None:
    chunks = (b'{"labels": ["' + b"x" * 600 + b'"]}', b" " * 600)

    async def body() -> Any:
        for chunk in chunks:
            yield chunk

    response = await client.post("/readings", content=body(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_status_a_route_declares_itself_is_documented_as_a_problem() -> None:
    document = app().openapi()
    answers = document["paths"]["/readings"]["post"]["responses"]
    assert answers["404"]["content"]["application/problem+json"]["schema"]["title"] == "Problem"


@pytest.mark.integration
async def test_database_errors_on_postgresql_answer_problem_json_never_plain_text(postgres_url: str) -> None:
    from metrology.eventkit.database import create_engine

    engine = create_engine(postgres_url)
    api = FastAPI()
    install_problem_handlers(api)
    statements: dict[str, tuple[str, dict[str, Any]]] = {
        "division": ("SELECT 1 / 0", {}),  # data exceptions (SQLSTATE class 22) ...
        "int64": ("SELECT CAST(:v AS BIGINT)", {"v": 2**64}),
        "nul": ("SELECT CAST(:v AS TEXT)", {"v": "a\x00"}),
        "conflict": ("CREATE TEMP TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (1)", {}),  # class 23
        "unknown": ("SELECT no_such_column FROM pg_class", {}),
    }

    @api.get("/{case}")
    async def run(case: str) -> None:
        sql, params = statements[case]
        async with engine.connect() as connection:
            for statement in sql.split("; "):
                await connection.execute(sa.text(statement), params)

    async with AsyncClient(transport=ASGITransport(app=api, raise_app_exceptions=False), base_url="http://kit") as c:
        answers = {case: await c.get(f"/{case}") for case in statements}
    await engine.dispose()
    statuses = {case: r.status_code for case, r in answers.items()}
    assert statuses == {"division": 422, "int64": 422, "nul": 422, "conflict": 409, "unknown": 500}
    assert {r.headers["content-type"] for r in answers.values()} == {"application/problem+json"}
    assert answers["nul"].json()["type"] == "urn:metrology:problem:invalid-value"
