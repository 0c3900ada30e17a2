"""A command's answer is encoded once, and reads as FastAPI's own encoding of it would."""

from __future__ import annotations

import dataclasses
import enum
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from metrology.servicekit.commands import EncodedJSONResponse, encode_answer


class Status(enum.StrEnum):
    PASSED = "passed"


@dataclasses.dataclass(frozen=True)
class Certificate:
    number: str
    issued_on: date
    types: frozenset[str]


class Reading(BaseModel):
    at: datetime
    value: Decimal


def fastapi_encoding(answer: object) -> object:
    return json.loads(JSONResponse(jsonable_encoder(answer)).body)


def test_an_answer_of_every_kind_of_value_reads_as_fastapi_would_encode_it() -> None:
    answer = {
        "job_id": uuid.uuid4(),
        "status": Status.PASSED,
        "due_on": date(2026, 3, 1),
        "recorded_at": datetime(2025, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
        "certificate": Certificate("BT-1", date(2025, 5, 6), frozenset({"2.8b"})),
        "reading": Reading(at=datetime(2025, 5, 6), value=Decimal("12.50")),
        "counts": {date(2025, 1, 1): 3, 7: "seven"},
        "pair": (1, 2),
        "name": "Trung tâm Kỹ thuật Tiêu chuẩn Đo lường Chất lượng Bến Tre",
        "none": None,
    }
    assert json.loads(encode_answer(answer)) == fastapi_encoding(answer)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.dates()
    | st.uuids(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_any_answer_made_of_json_values_dates_and_ids_reads_the_same(answer: object) -> None:
    assert json.loads(encode_answer(answer)) == fastapi_encoding(answer)


def test_the_encoded_body_is_sent_as_it_is() -> None:
    response = EncodedJSONResponse(b'{"a":1}', status_code=201)
    assert (response.body, response.status_code, response.media_type) == (b'{"a":1}', 201, "application/json")
