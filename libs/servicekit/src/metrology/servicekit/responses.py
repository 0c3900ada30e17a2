"""Every status a route can answer, in its OpenAPI: the kit's problem responses declared once for all routes
(401/403 where a token is checked, 404 where the path names a resource, 409 and 413 on writes, 422 where there
is input, 503 everywhere), instead of a `responses=` on each route."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from metrology.servicekit.problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "RFC 9457 problem details; `errors` names each field at fault",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "rule": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["type", "title", "status"],
}

DESCRIPTIONS = {
    400: "The body is not well-formed JSON",
    401: "No bearer token, or one that does not verify",
    403: "The token's roles, tenant or scope do not allow this",
    404: "No such resource (or not visible to this caller)",
    409: "The change conflicts with recorded data or a concurrent change",
    413: "The request body is larger than the route allows",
    422: "Invalid input; `errors` names each field",
    503: "The database is not reachable; retry after Retry-After seconds",
}
WRITES = {"post", "put", "patch", "delete"}


def problem_statuses(path: str, method: str, operation: dict[str, Any]) -> set[int]:
    """The problem statuses an operation can answer, from its shape: a bearer token (security), a resource in
    the path, a write, input."""
    statuses = {503}
    if operation.get("security"):
        statuses |= {401, 403}
    if "{" in path:
        statuses.add(404)
    if method in WRITES:
        statuses |= {409, 413, 422}
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.add(422)
    if operation.get("requestBody"):
        statuses.add(400)
    return statuses


def with_problem_responses(document: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with each operation's problem responses declared (a route's own declaration wins;
    FastAPI's default 422 is replaced by the problem+json the service really answers). A status a route declares
    itself (`responses={404: {"description": ...}}`, e.g. a body naming another resource) answers problem+json too."""
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            default_422 = responses.get("422", {}).get("content", {}).get("application/json", {})
            if "HTTPValidationError" in str(default_422.get("schema", "")):
                del responses["422"]
            for status in sorted(problem_statuses(path, method, operation)):
                responses.setdefault(
                    str(status),
                    {"description": DESCRIPTIONS[status], "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}},
                )
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400 and not response.get("content"):
                    response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}
    return document


def document_problem_responses(app: FastAPI) -> None:
    """Every operation of the app's OpenAPI declares the problem statuses it can answer."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_problem_responses(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
