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
