"""The exports analysts open: SPSS .sav read back by PSPP (labels, the user-missing range),
and the XLSX tables (typed strings, quotePrefix, numbers as numbers, frozen header)."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from survey.analysis import exports
from tests.analysis.test_disclosure import FORMS, dataset
from tests.conftest import require_program

PSPP = "/usr/bin/pspp"


def _pspp(tmp_path: Path, syntax: str) -> list[list[str]]:
    require_program("pspp", Path(PSPP).is_file() or shutil.which("pspp") is not None)
    script = tmp_path / "read.sps"
    script.write_text(syntax, encoding="utf-8")
    out = tmp_path / "out.csv"
    done = subprocess.run(
        [PSPP if Path(PSPP).is_file() else "pspp", "-O", "format=csv", "-o", str(out), str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))


def test_sav_read_by_pspp(tmp_path: Path) -> None:
    df = dataset(5, 40)
    path = tmp_path / "dataset.sav"
    exports.write_sav(df, FORMS, path)
    rows = _pspp(
        tmp_path,
        f"GET FILE='{path}'.\n"
        "DISPLAY DICTIONARY /VARIABLES=sex ideation_ever.\n"
        "DESCRIPTIVES /VARIABLES=sex.\n",
    )
    variables = {r[0]: r for r in rows if len(r) == 10 and r[0] in ("sex", "ideation_ever")}
    assert variables["sex"][2] == "あなたの性別を教えてください。"  # the variable label
    assert variables["sex"][9] == "-9 THRU -1"  # five missing codes: declared as a range
    assert variables["ideation_ever"][9] == "-9 THRU -1"
    labels = [(r[1], r[2]) for r in rows if len(r) == 3 and r[1]]
    assert ("1.00", "男性") in labels and ("2.00", "女性") in labels
    assert ("-9.00[a]", "無回答") in labels and ("-7.00[a]", "答えたくない") in labels
    # PSPP treats the codes as missing: DESCRIPTIVES counts only the valid values.
    valid = int((df["sex"] > 0).sum())
    n_rows = [r for r in rows if r and r[0] in ("sex", "あなたの性別を教えてください。")]
    assert any(r[1] == str(valid) for r in n_rows), n_rows
    assert valid < len(df)  # the data hold missing codes, so the count can tell


def test_sav_from_polars_is_the_sav_from_pandas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pyreadstat is handed a polars frame for speed: the file reads back as the one written
    from the pandas frame would, data, labels, missing values and formats alike."""
    import polars
    import pyreadstat

    df = dataset(5, 40)
    df.loc[::3, "sex"] = pd.NA  # system-missing values (a question another cohort's form asks)
    df.loc[::4, "ideation_coping"] = pd.NA
    exports.write_sav(df, FORMS, tmp_path / "polars.sav")
    monkeypatch.setattr(polars, "from_pandas", lambda frame, nan_to_null: frame)
    exports.write_sav(df, FORMS, tmp_path / "pandas.sav")
    a, meta_a = pyreadstat.read_sav(tmp_path / "polars.sav", user_missing=True)
    b, meta_b = pyreadstat.read_sav(tmp_path / "pandas.sav", user_missing=True)
    assert a["sex"].isna().sum() > 0 and a.equals(b)
    for attr in (
        "column_labels",
        "variable_value_labels",
        "missing_ranges",
        "original_variable_types",
        "variable_display_width",
        "variable_measure",
        "variable_storage_width",
    ):
        assert getattr(meta_a, attr) == getattr(meta_b, attr), attr


def test_xlsx_cells(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "区分": ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "普通の文字"],
            "n": [12, 30, 0, 7, 15],
            "%": [12.5, 30.0, 0.0, 7.25, 15.0],
        }
    )
    path = tmp_path / "t.xlsx"
    exports.write_xlsx({"表 one": frame}, path, {"表 one": ["注記"]})
    ws = load_workbook(path)["表 one"]
    assert ws.freeze_panes == "A2"  # the header row stays
    assert [c.value for c in ws[1]] == ["区分", "n", "%"] and ws["A1"].font.bold
    for r, text in enumerate(frame["区分"], start=2):
        cell = ws.cell(r, 1)
        assert cell.value == text and cell.data_type == "s"  # a string, never a formula
        assert cell.quotePrefix == text.startswith(("=", "+", "-", "@"))
    for r, (n, pct) in enumerate(zip(frame["n"], frame["%"], strict=True), start=2):
        assert ws.cell(r, 2).value == n and isinstance(ws.cell(r, 2).value, int)
        assert ws.cell(r, 3).value == pct and ws.cell(r, 3).number_format == "0.0"
    assert ws.cell(2, 2).number_format == "#,##0"
    assert ws.cell(7, 1).value == "注記"
    # The raw sheet XML holds no formula element at all.

    with zipfile.ZipFile(path) as z:
        sheet = next(n for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
        assert b"<f>" not in z.read(sheet) and b"<f " not in z.read(sheet)


def _row_by_row(df: pd.DataFrame) -> bytes:
    """What survey.spreadsheet.writer writes, one row at a time (the reference)."""
    from survey import spreadsheet

    buffer = io.StringIO()
    writer = spreadsheet.writer(buffer)
    writer.writerow(df.columns)
    for row in df.itertuples(index=False):
        writer.writerow("" if exports._missing(v) else v for v in row)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.integers(-9, 10**6), st.sampled_from(["＊", "=1+1", "-x"])),
            st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=False)),
            st.one_of(st.none(), st.text(max_size=8)),
            st.integers(-9, 99),
        ),
        max_size=30,
    )
)
@example([(None, None, "\n", 0), (1, 0.5, "a\rb", 2)])  # line breaks inside a text: quoted
def test_csv_bytes_are_the_row_by_row_writers(rows: list[tuple[object, ...]]) -> None:
    """The column-wise CSV equals the row-by-row formula-safe writer's, byte for byte:
    mixed columns (counts and ＊), floats, text with quotes, commas, newlines, formulas."""
    df = pd.DataFrame(rows, columns=["n", "%", "区分", "code"])
    df["nullable"] = pd.array([r[3] if r[3] % 3 else None for r in rows], dtype="Int64")
    df["picks"] = pd.array([None if r[3] % 4 == 0 else f"{r[3]} 3" for r in rows], dtype="string")
    assert exports.csv_bytes(df) == _row_by_row(df)


def test_csv_bytes_of_one_column_and_of_signed_zeros() -> None:
    # A row of one empty field is quoted by the csv module (""), and -0.0 is not 0.0.
    for df in (
        pd.DataFrame({"区分": ["", None, "a,b"]}),
        pd.DataFrame({"x": [0.0, -0.0, float("nan")], "y": ["", "=1", None]}),
    ):
        assert exports.csv_bytes(df) == _row_by_row(df)
