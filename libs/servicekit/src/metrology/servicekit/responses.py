"""Every status a route can answer, in its OpenAPI: the kit's problem responses declared once for all routes
(401/403 where a token is checked, 404 where the path names a resource, 409 and 413 on writes, 422 where there
is input, 503 everywhere), instead of a `responses=` on each route."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from metrology.servicekit.auth import authenticate
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
    401: "No bearer token, or one that does not verify",
    403: "The token's roles, tenant or scope do not allow this",
    404: "No such resource (or not visible to this caller)",
    409: "The change conflicts with recorded data or a concurrent change",
    413: "The request body is larger than the route allows",
    422: "Invalid input; `errors` names each field",
    503: "The database is not reachable; retry after Retry-After seconds",
}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def problem_statuses(route: APIRoute) -> set[int]:
    """The problem statuses a route can answer, from its shape."""
    statuses = {503}
    if _checks_token(route.dependant):
        statuses |= {401, 403}
    if "{" in route.path_format:
        statuses.add(404)
    if route.methods & WRITES:
        statuses |= {409, 413, 422}
    if route.dependant.query_params or route.dependant.path_params or route.dependant.header_params:
        statuses.add(422)
    return statuses


def document_problem_responses(app: FastAPI) -> None:
    """Declare the problem responses of every route that does not declare them itself."""
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.include_in_schema:
            continue
        declared = {str(status) for status in route.responses}
        for status in sorted(problem_statuses(route)):
            if str(status) not in declared:
                route.responses[status] = {
                    "description": DESCRIPTIONS[status],
                    "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}},
                }
    app.openapi_schema = None


def _checks_token(dependant: Dependant) -> bool:
    return dependant.call is authenticate or any(_checks_token(d) for d in dependant.dependencies)
