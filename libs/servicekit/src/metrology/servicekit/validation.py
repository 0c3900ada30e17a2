"""Input the platform can hold, refused with a 422 problem naming the field before it reaches a handler or the
database: no NUL character (PostgreSQL text cannot hold one), no number beyond int64 and no NaN or Infinity in
a JSON body (`InputGuard`, kit-wide); bounded types for the fields themselves (`Day`, `Finite`, `Count`,
`Offset`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Query
from pydantic import Field
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from metrology.eventkit.envelope import loads_json

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)

Day = Annotated[date, Field(ge=FIRST_DAY, le=LAST_DAY)]
"""A calendar date between 1900 and 2200: a validity added to it cannot overflow."""
Finite = Annotated[float, Field(allow_inf_nan=False)]
"""A measured or computed number: NaN and Infinity are refused wherever it comes from."""
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
"""A count kept in an INTEGER column."""
Amount = Annotated[int, Field(ge=0, le=INT64_MAX)]
"""An amount kept in a BIGINT column (e.g. VND)."""
Offset = Annotated[int, Query(ge=0, le=INT64_MAX, description="Items to skip")]
Limit = Annotated[int, Query(ge=1, le=500, description="Items per page")]


def input_faults(value: Any, location: str = "body") -> Iterator[dict[str, str]]:
    """Each place in a parsed JSON value the platform cannot hold, as a problem's field error."""
    if isinstance(value, str):
        if "\x00" in value:
            yield _fault(location, "must not contain a NUL character", "nul_character")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            yield _fault(location, "must be within the 64-bit integer range", "int_out_of_range")
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield _fault(location, "must be a finite number", "finite_number")
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                yield _fault(f"{location}.{key!r}", "a name must not contain a NUL character", "nul_character")
            yield from input_faults(item, f"{location}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from input_faults(item, f"{location}.{index}")


def query_faults(query_string: bytes) -> Iterator[dict[str, str]]:
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            yield _fault(f"query.{name}", "must not contain a NUL character", "nul_character")


def _fault(field: str, reason: str, kind: str) -> dict[str, str]:
    return {"field": field, "reason": reason, "type": kind}


class InputGuard:
    """Refuses, with one 422 problem listing every field at fault, a request whose path, query string or JSON
    body holds what no column can (see `input_faults`). Bodies that are not JSON pass on untouched; a body that
    does not parse is left to the route (400)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        faults = list(query_faults(scope.get("query_string", b"")))
        if "\x00" in scope["path"]:
            faults.append(_fault("path", "must not contain a NUL character", "nul_character"))
        if not faults and _is_json(scope):
            try:
                body = await _read_body(receive)
            except HTTPException as error:  # the body limit, counted as the body arrives
                await _answer(scope, receive, send, error.status_code, "Content Too Large", str(error.detail))
                return
            faults = list(input_faults(_parsed(body)))
            receive = _replay(body, receive)
        if faults:
            await _refuse(scope, receive, send, faults)
            return
        await self.app(scope, receive, send)


def _is_json(scope: Scope) -> bool:
    content_type = dict(scope.get("headers") or []).get(b"content-type", b"").split(b";")[0].strip().lower()
    return content_type == b"application/json" or content_type.endswith(b"+json")


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _parsed(body: bytes) -> Any:
    """The body as the standard library reads it (NaN, Infinity and integers of any size included, for
    `input_faults` to name), at a third of its cost for the bodies that hold none of them (`loads_json`)."""
    try:
        return loads_json(body)
    except ValueError:
        return None


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


async def _refuse(scope: Scope, receive: Receive, send: Send, faults: list[dict[str, str]]) -> None:
    fields = ", ".join(fault["field"] for fault in faults)
    await _answer(
        scope,
        receive,
        send,
        422,
        "Invalid request",
        f"Check these fields: {fields}",
        type="urn:metrology:problem:invalid-request",
        errors=faults,
    )


async def _answer(
    scope: Scope, receive: Receive, send: Send, status: int, title: str, detail: str, **extra: Any
) -> None:
    from metrology.servicekit.problems import problem

    response = problem(status, title, detail, instance=scope["path"].replace("\x00", ""), **extra)
    await response(scope, receive, send)
