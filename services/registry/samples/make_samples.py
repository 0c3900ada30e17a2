"""Writes the sample import files (CSV and XLSX) from a small slice of a demo data set with its own seed.

.venv/bin/python services/registry/samples/make_samples.py
"""

from __future__ import annotations

import csv
from pathlib import Path

from metrology.registry.adapters.spreadsheets import write_xlsx
from metrology.registry.demo import demo_dataset

HERE = Path(__file__).parent
ENTERPRISE_COLUMNS = [
    "tax_code",
    "name",
    "sector",
    "address",
    "province_code",
    "commune_code",
    "contact_name",
    "contact_phone",
    "registered_on",
]
INSTRUMENT_COLUMNS = [
    "type_code",
    "serial",
    "manufacturer",
    "type_approval_number",
    "owner_tax_code",
    "province_code",
    "commune_code",
    "registered_on",
]


def write(name: str, columns: list[str], rows: list[dict[str, object]]) -> None:
    lines = [[str(row.get(c) or "") for c in columns] for row in rows]
    with (HERE / f"{name}.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        writer.writerows(lines)
    (HERE / f"{name}.xlsx").write_bytes(write_xlsx(columns, lines))


def main() -> None:
    data = demo_dataset(seed=2021)
    enterprises = data.enterprises[::5][:12]
    owners = {e["tax_code"] for e in enterprises}
    instruments = [i for i in data.instruments if i["owner_tax_code"] in owners][:25]
    write("enterprises", ENTERPRISE_COLUMNS, enterprises)
    write("instruments", INSTRUMENT_COLUMNS, instruments)


if __name__ == "__main__":
    main()
