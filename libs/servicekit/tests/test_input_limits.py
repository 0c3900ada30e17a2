"""Input hardening: spreadsheets are bounded before and while parsing, bodies per route, exported cells cannot
run as formulas."""

from __future__ import annotations

import csv
import io
import zipfile

import pytest
from fastapi import FastAPI, Request
from httpx import ASGITransport, AsyncClient
from openpyxl import Workbook, load_workbook

from metrology.eventkit.errors import RuleViolationError
from metrology.registry.adapters.spreadsheets import XLSX, read_rows, write_xlsx
from metrology.servicekit.cells import neutralise
from metrology.servicekit.limits import BodyLimit, SpreadsheetLimits
from metrology.servicekit.problems import install_problem_handlers
from metrology.training.application import importing


def xlsx(rows: list[list[object]], dimension: str | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    if dimension is None:
        return buffer.getvalue()
    rewritten = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source, zipfile.ZipFile(rewritten, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                start = text.index('<dimension ref="')
                end = text.index('"', start + 16)
                data = (text[:start] + f'<dimension ref="{dimension}' + text[end:]).encode()
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return rewritten.getvalue()


@pytest.mark.timeout(30)
def test_an_xlsx_declaring_a_huge_dimension_is_read_as_the_cells_it_holds():
    content = xlsx([["tax_code", "name"], ["0301234567", "Cơ sở A"]], dimension="A1:XFD1048576")
    assert len(content) < 10_000
    assert read_rows(content, XLSX) == [(2, {"tax_code": "0301234567", "name": "Cơ sở A"})]
    header = list(importing.COLUMNS)
    training = xlsx(
        [header, ["Lê Văn A", "1990-01-01", "083190001234", "", "enterprise", "", "", "2025-03-01", "x"]],
        dimension="A1:XFD1048576",
    )
    assert [number for number, _ in importing.read_rows(training, importing.XLSX)] == [2]


@pytest.mark.parametrize(
    ("rows", "rule"),
    [
        ([["a"]] + [["x"]] * 11, "too-many-rows"),
        ([["a"] + [f"c{n}" for n in range(10)]], "too-many-columns"),
        ([["a"], ["x" * 101]], "cell-too-long"),
    ],
)
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_spreadsheet_past_its_bounds_is_refused_with_the_rule(rows, rule, kind):
    limits = SpreadsheetLimits(rows=10, columns=8, cell_chars=100)
    if kind == "xlsx":
        content, content_type = xlsx(rows), XLSX
    else:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        content, content_type = buffer.getvalue().encode(), "text/csv"
    with pytest.raises(RuleViolationError) as refused:
        read_rows(content, content_type, limits)
    assert refused.value.rule == rule


def test_an_xlsx_that_inflates_past_the_limit_is_refused_before_parsing():
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b" " * 2_000_000)
    assert len(bomb.getvalue()) < 10_000
    with pytest.raises(RuleViolationError) as refused:
        read_rows(bomb.getvalue(), XLSX, SpreadsheetLimits(uncompressed_bytes=1_000_000))
    assert refused.value.rule == "file-too-large"


@pytest.mark.parametrize("text", ['=HYPERLINK("http://x","y")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd"])
def test_exported_text_that_could_start_a_formula_is_shown_as_text(text):
    assert neutralise(text) == "'" + text
    sheet = load_workbook(io.BytesIO(write_xlsx(["name"], [[text]]))).active
    assert sheet is not None
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "'" + text


def test_numbers_and_ordinary_text_are_exported_unchanged():
    assert [neutralise(v) for v in (-3, 2.5, "Cơ sở A", "")] == [-3, 2.5, "Cơ sở A", ""]


@pytest.fixture
def limited_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things")
    async def things(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.post("/imports/things", openapi_extra={"requestBody": {"content": {"text/csv": {}}}})
    async def import_things(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    app.add_middleware(BodyLimit, fastapi=app, body_bytes=1_000, upload_bytes=5_000)
    return app


async def test_a_body_over_its_routes_limit_is_answered_413_problem_json(limited_app):
    async with AsyncClient(transport=ASGITransport(app=limited_app), base_url="http://t") as client:
        assert (await client.post("/things", content=b"x" * 1_000)).status_code == 200
        refused = await client.post("/things", content=b"x" * 1_001)
        assert refused.status_code == 413
        assert refused.headers["content-type"] == "application/problem+json"
        assert (await client.post("/imports/things", content=b"x" * 4_000)).status_code == 200
        assert (await client.post("/imports/things", content=b"x" * 5_001)).status_code == 413


async def test_a_streamed_body_without_a_length_is_counted_as_it_arrives(limited_app):
    async def chunks():
        for _ in range(5):
            yield b"x" * 400

    async with AsyncClient(transport=ASGITransport(app=limited_app), base_url="http://t") as client:
        refused = await client.post("/things", content=chunks())
        assert refused.status_code == 413
