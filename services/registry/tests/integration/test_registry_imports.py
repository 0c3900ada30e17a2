"""All-or-nothing imports of the sample files (CSV and XLSX) on PostgreSQL."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from metrology.registry.adapters.spreadsheets import XLSX, write_xlsx

pytestmark = pytest.mark.integration

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def sample_rows(name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO((SAMPLES / f"{name}.csv").read_text(encoding="utf-8"))))


def as_csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


def upload(api, kind: str, content: bytes, content_type: str = "text/csv"):
    return api.client.post(f"/imports/{kind}", content=content, headers=api.admin | {"Content-Type": content_type})


def total(api, kind: str) -> int:
    return api.client.get(f"/{kind}", params={"limit": 1}, headers=api.admin).json()["total"]


def test_a_good_file_imports_every_row(api):
    enterprises = upload(api, "enterprises", (SAMPLES / "enterprises.csv").read_bytes())
    instruments = upload(api, "instruments", (SAMPLES / "instruments.csv").read_bytes())

    assert enterprises.status_code == 201, enterprises.text
    assert enterprises.json()["imported"] == len(sample_rows("enterprises")) - 1
    assert instruments.status_code == 201, instruments.text
    assert total(api, "instruments") == len(sample_rows("instruments")) - 1
    types = {r["type"] for r in api.published(total(api, "enterprises") + total(api, "instruments"))}
    assert types == {"vn.metrology.registry.enterprise-registered.v1", "vn.metrology.registry.instrument-registered.v1"}


def test_one_bad_row_imports_nothing_and_names_the_row_and_field(api):
    rows = sample_rows("enterprises")
    rows[6][0] = rows[6][0][:9] + str((int(rows[6][0][9]) + 1) % 10)  # spreadsheet row 7: a mistyped check digit

    response = upload(api, "enterprises", as_csv(rows))

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == [
        {
            "row": 7,
            "field": "tax_code",
            "reason": response.json()["errors"][0]["reason"],
            "rule": "tax-code-check-digit",
        }
    ]
    assert total(api, "enterprises") == 0


def test_every_bad_row_is_listed_including_duplicates_within_the_file(api):
    rows = sample_rows("enterprises")
    rows[3][5] = "123"  # commune code of the wrong form
    rows.append(rows[2])  # the same tax code twice

    errors = upload(api, "enterprises", as_csv(rows)).json()["errors"]

    assert [(e["row"], e["field"]) for e in errors] == [(4, "commune_code"), (len(rows), "tax_code")]
    assert total(api, "enterprises") == 0


def test_an_instrument_row_with_an_unknown_owner_or_a_missing_type_approval_imports_nothing(api):
    assert upload(api, "enterprises", (SAMPLES / "enterprises.csv").read_bytes()).status_code == 201
    rows = sample_rows("instruments")
    rows[2][3] = ""  # 2.19 needs a type approval number
    rows[5][4] = "0300588569"  # an owner that is not registered here

    errors = upload(api, "instruments", as_csv(rows)).json()["errors"]

    assert [(e["row"], e["field"]) for e in errors] == [(3, "type_approval_number"), (6, "owner_tax_code")]
    assert total(api, "instruments") == 0


def test_xlsx_files_import_the_same_way(api):
    good = upload(api, "enterprises", (SAMPLES / "enterprises.xlsx").read_bytes(), XLSX)
    assert good.status_code == 201, good.text
    assert good.json()["imported"] == len(sample_rows("enterprises")) - 1

    rows = sample_rows("instruments")
    rows[4][0] = "2.99"  # not a Group 2 type
    bad = upload(api, "instruments", write_xlsx(rows[0], rows[1:]), XLSX)

    assert bad.status_code == 422
    assert [(e["row"], e["field"]) for e in bad.json()["errors"]] == [(5, "type_code")]
    assert total(api, "instruments") == 0
