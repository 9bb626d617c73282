"""The codebook XLSX: every text cell is a typed string, never a formula."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import yaml

from survey.forms.codebook import write_xlsx
from survey.forms.loader import definitions_dir, load_forms

FORMULA = '=HYPERLINK("http://evil.example/","x")'


def test_text_that_looks_like_a_formula_is_stored_as_a_string(tmp_path: Path) -> None:
    defs = tmp_path / "definitions"
    shutil.copytree(definitions_dir(), defs)
    k6 = defs / "modules" / "k6.yaml"
    data = yaml.safe_load(k6.read_text(encoding="utf-8"))
    data["items"][0]["text"]["en"] = FORMULA
    data["items"][0]["rows"][0]["text"]["en"] = "+1+1"
    data["derived"][0]["label"]["ja"] = "@SUM(1)"
    k6.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    out = tmp_path / "codebook.xlsx"
    write_xlsx(load_forms(defs), out)

    book = openpyxl.load_workbook(out)
    seen: set[str] = set()
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if isinstance(c.value, str):
                    assert c.data_type == "s", (ws.title, c.coordinate, c.value)
                    seen.add(c.value)
                elif c.value is not None:
                    assert c.data_type == "n", (ws.title, c.coordinate)  # numbers stay numbers
    assert {f"{FORMULA} — +1+1", "@SUM(1)"} <= seen
    missing = list(book["欠損値 missing"].iter_rows(min_row=2, values_only=True))
    assert all(isinstance(code, int) and code < 0 for code, _ja, _en in missing)


def test_the_codebook_lists_the_datasets_columns(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from survey.forms.codebook import codebook, write_xlsx
    from survey.forms.loader import load_forms
    from survey.ingest.dataset import columns

    forms = load_forms()
    listed = codebook(forms)["dataset"]
    assert [c["column"] for c in listed] == columns(forms)
    kinds = {c["column"]: c["kind"] for c in listed}
    assert kinds["response_id"] == "meta" and kinds["week"] == "meta"
    assert kinds["opinion_answered"] == "answered" and "opinion" not in kinds
    assert kinds["k6_total"] == "derived" and kinds["sex"] == "variable"
    sex = next(c for c in listed if c["column"] == "sex")
    assert "general.v1" in sex["forms"] and "high_school.v1" in sex["forms"]
    write_xlsx(forms, tmp_path / "codebook.xlsx")
    sheet = load_workbook(tmp_path / "codebook.xlsx")["データセット dataset"]
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == columns(forms)
