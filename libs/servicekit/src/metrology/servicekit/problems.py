"""RFC 9457 problem details for every error an API returns, with field-level reasons for bad input."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException

from metrology.eventkit.database import UNAVAILABLE_SQLSTATE_CLASSES
from metrology.eventkit.errors import DomainError
from metrology.eventkit.store import ConcurrencyError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger(__name__)


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


RETRY_AFTER_SECONDS = 5


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(ConcurrencyError, _concurrency_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(sa_exc.DBAPIError, _database_error)
    app.add_exception_handler(sa_exc.TimeoutError, _database_unavailable)  # no pooled connection in time
    app.add_exception_handler(OSError, _database_unavailable)  # the server refused or dropped the connection
    # the driver's own errors where SQLAlchemy does not wrap them (a pooled connection being opened meanwhile)
    app.add_exception_handler(asyncpg.PostgresError, _driver_error)
    app.add_exception_handler(asyncpg.InterfaceError, _database_unavailable)  # a connection broken mid-use
    app.add_exception_handler(asyncpg.exceptions.InternalClientError, _database_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    """Database errors as problems: unavailable → 503 with Retry-After, bad values (SQLSTATE class 22) → 422,
    conflicts (class 23) → 409."""
    assert isinstance(error, sa_exc.DBAPIError)
    sqlstate = str(getattr(error.orig, "sqlstate", None) or "")  # asyncpg's errors reach SQLAlchemy as DBAPIError
    if isinstance(error, sa_exc.IntegrityError) or sqlstate.startswith("23"):
        return problem(409, "Conflict", "the change conflicts with recorded data", instance=request.url.path)
    if isinstance(error, sa_exc.DataError) or sqlstate.startswith("22"):
        return problem(
            422,
            "Invalid value",
            "a value cannot be stored (out of range, or a character such as NUL)",
            type="urn:metrology:problem:invalid-value",
            instance=request.url.path,
        )
    if error.connection_invalidated or isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return await _database_unavailable(request, error)
    log.error("database error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(500, "Internal Server Error", "the database refused the request", instance=request.url.path)


async def _driver_error(request: Request, error: Exception) -> JSONResponse:
    """A server-side error the driver raised itself: the server restarting or shutting down is unavailability."""
    if str(getattr(error, "sqlstate", "") or "")[:2] in UNAVAILABLE_SQLSTATE_CLASSES:
        return await _database_unavailable(request, error)
    return await _unexpected_error(request, error)


async def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, error)
    response = problem(
        503,
        "Service Unavailable",
        "the database is not reachable; nothing was recorded, try again",
        type="urn:metrology:problem:database-unavailable",
        instance=request.url.path,
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


async def _unexpected_error(request: Request, error: Exception) -> JSONResponse:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    return problem(500, "Internal Server Error", "an unexpected error; it has been logged", instance=request.url.path)


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
