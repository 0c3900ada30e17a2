"""RFC 9457 problem details for every error an API returns, with field-level reasons for bad input."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from metrology.eventkit.errors import DomainError
from metrology.eventkit.store import ConcurrencyError

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(ConcurrencyError, _concurrency_error)
    app.add_exception_handler(HTTPException, _http_error)


async def _invalid_request(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [
        {"field": ".".join(str(part) for part in item["loc"]), "reason": item["msg"], "type": item["type"]}
        for item in error.errors()
    ]
    fields = ", ".join(e["field"] for e in errors)
    return problem(
        422,
        "Invalid request",
        f"Check these fields: {fields}",
        type="urn:metrology:problem:invalid-request",
        instance=request.url.path,
        errors=errors,
    )


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    errors = [{"field": error.field, "reason": error.detail}] if error.field else None
    return problem(
        error.status,
        error.title,
        error.detail,
        type=f"urn:metrology:problem:{error.rule}" if error.rule else "about:blank",
        rule=error.rule,
        instance=request.url.path,
        errors=errors,
    )


async def _concurrency_error(request: Request, error: Exception) -> JSONResponse:
    return problem(
        409, "Conflict", str(error), type="urn:metrology:problem:concurrent-change", instance=request.url.path
    )


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    response = problem(error.status_code, _reason(error.status_code), str(error.detail), instance=request.url.path)
    for key, value in (error.headers or {}).items():
        response.headers[key] = value
    return response


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"
