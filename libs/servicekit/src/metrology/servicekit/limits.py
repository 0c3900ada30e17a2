"""Bounds on what a request may make the service hold: body size per route (uploads separately) and spreadsheet
shape (rows, columns, cell size, uncompressed size) checked before and while parsing."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from metrology.eventkit.errors import RuleViolationError

UPLOAD_MEDIA_TYPES = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclass(frozen=True, slots=True)
class SpreadsheetLimits:
    rows: int = 10_000
    columns: int = 64
    cell_chars: int = 1_000
    uncompressed_bytes: int = 64 * 1024 * 1024  # all parts of an XLSX archive together


def check_xlsx_archive(content: bytes, limits: SpreadsheetLimits) -> None:
    """Refuse an XLSX whose parts would inflate past the limit (a zip bomb), before any XML is parsed."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise RuleViolationError("the XLSX file is not a valid archive", field="file", rule="file-format") from None
    if inflated > limits.uncompressed_bytes:
        raise RuleViolationError(
            f"the XLSX file inflates to {inflated} bytes (at most {limits.uncompressed_bytes})",
            field="file",
            rule="file-too-large",
        )


def bounded_rows(rows: Iterable[Sequence[Any]], limits: SpreadsheetLimits) -> Iterator[list[Any]]:
    """Rows (header first) with at most `limits.columns` cells each (trailing empty cells dropped), refused past
    `limits.rows` data rows or with a cell longer than `limits.cell_chars`."""
    for number, row in enumerate(rows, start=1):
        if number > limits.rows + 1:
            raise RuleViolationError(f"the file has more than {limits.rows} rows", field="file", rule="too-many-rows")
        cells = list(row[: limits.columns + 1])
        while cells and (cells[-1] is None or cells[-1] == ""):
            cells.pop()
        if len(cells) > limits.columns:
            raise RuleViolationError(
                f"row {number} has more than {limits.columns} columns", field="file", rule="too-many-columns"
            )
        for column, cell in enumerate(cells, start=1):
            if isinstance(cell, str) and len(cell) > limits.cell_chars:
                raise RuleViolationError(
                    f"row {number}, column {column}: a cell is longer than {limits.cell_chars} characters",
                    field="file",
                    rule="cell-too-long",
                )
        yield cells


class BodyLimit:
    """413 (problem+json) for a request body larger than its route allows; spreadsheet uploads get their own
    limit. Counted as the body arrives, so a missing or false Content-Length does not help."""

    def __init__(self, app: ASGIApp, *, fastapi: FastAPI, body_bytes: int, upload_bytes: int) -> None:
        self.app = app
        self.fastapi = fastapi
        self.body_bytes = body_bytes
        self.upload_bytes = upload_bytes
        self._uploads: list[re.Pattern[str]] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_bytes if self._is_upload(scope["path"]) else self.body_bytes
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            await self._too_large(scope, receive, send, limit)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"the request body is larger than {limit} bytes")
            return message

        await self.app(scope, counted, send)

    def _is_upload(self, path: str) -> bool:
        if self._uploads is None:
            self._uploads = [
                route.path_regex
                for route in self.fastapi.routes
                if isinstance(route, APIRoute) and _accepts_upload(route)
            ]
        return any(pattern.match(path) for pattern in self._uploads)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        from metrology.servicekit.problems import problem

        response = problem(413, "Content Too Large", f"the request body is larger than {limit} bytes")
        await response(scope, receive, send)


def _accepts_upload(route: APIRoute) -> bool:
    content = ((route.openapi_extra or {}).get("requestBody") or {}).get("content") or {}
    return any(media_type in content for media_type in UPLOAD_MEDIA_TYPES)
