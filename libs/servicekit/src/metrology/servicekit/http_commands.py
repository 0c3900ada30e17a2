"""Commands that work through a service's HTTP API (the demo data loaders): what goes wrong on the way, the service
not answering or an answer that is an error, stops the command with one line and exit 2, not a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import httpx

from metrology.servicekit.command_settings import refuse

SAID_AT_MOST = 300  # characters of an error answer's body quoted


class RequestRefusedError(Exception):
    """An answer that is not what the command needed: the request, the status and what the service said."""

    def __init__(self, response: httpx.Response) -> None:
        request = response.request
        super().__init__(f"{request.method} {request.url} answered {response.status_code}: {_said(response)}")


@contextmanager
def http_failures_in_one_line(name: str, command: str) -> Iterator[None]:
    """Run the body; a request refused, a service not answering, or a wait that ran out ends `command` with one
    line naming what happened, and exit 2 (what was loaded before stays: the loaders are idempotent)."""
    try:
        yield
    except RequestRefusedError as error:
        _stop(name, command, str(error))
    except httpx.HTTPStatusError as error:
        _stop(name, command, str(RequestRefusedError(error.response)))
    except httpx.TransportError as error:
        _stop(name, command, f"cannot reach {_where(error)} ({type(error).__name__}: {error})")
    except TimeoutError as error:
        _stop(name, command, str(error) or "a wait ran out")


def _stop(name: str, command: str, reason: str) -> NoReturn:
    refuse(name, f"{command} stopped: {reason}")


def _said(response: httpx.Response) -> str:
    """A problem's detail or title (RFC 9457), or the start of the body."""
    try:
        problem = response.json()
    except ValueError:
        problem = None
    if isinstance(problem, dict) and (problem.get("detail") or problem.get("title")):
        return str(problem.get("detail") or problem.get("title"))
    return response.text[:SAID_AT_MOST] or response.reason_phrase


def _where(error: httpx.TransportError) -> str:
    try:
        return str(error.request.url)
    except RuntimeError:  # no request attached
        return "the service"
