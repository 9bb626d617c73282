"""``survey analyze --out DIR --json`` on a small drawn study with web answers: the files, no
published figure on fewer than the threshold (read back from the CSVs), the audit passed."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from survey.analysis.run import EXCERPTS_SHEET
from survey.collector.intake import Intake
from survey.erasure.certificate import handed_out
from survey.forms.items.text import OPINIONS
from survey.ingest import dataset
from survey.ingest.decryption import decrypt_responses
from survey.simulate import random_answers
from tests.conftest import Issued
from tests.helpers import STUDY_PRIVATE_KEY, STUDY_PUBLIC_KEY, carry_to_office, seal

pytestmark = pytest.mark.slow  # long: scheduled first (tests/conftest.py)

MARK = "＊"


def answered(intake: Intake, issued: Issued, tmp_path: Path) -> int:
    """Random web answers of most general and high-school codes, decrypted, dataset built."""
    rng = random.Random(14)
    sent = 0
    for cohort, share in (("general", 0.9), ("high_school", 0.8)):
        codes = issued.codes[cohort]
        for code in codes[: int(len(codes) * share)]:
            form = intake.check(code).form
            intake.submit(code, seal(STUDY_PUBLIC_KEY, form, random_answers(form, rng)))
            sent += 1
    assert carry_to_office(issued.db.engine, issued.settings, tmp_path / "b.json") == sent
    decrypt_responses(issued.db.engine, "default", STUDY_PRIVATE_KEY)
    assert dataset.build(issued.db.engine, "default").rows == sent
    return sent


def _published_counts(path: Path) -> list[tuple[str, str, int]]:
    """(row label, column, n) of every published count of a table CSV."""
    text = path.read_bytes()
    assert text.startswith("\ufeff".encode())  # UTF-8 with BOM
    out = []
    for row in csv.DictReader(io.StringIO(text.decode("utf-8-sig"))):
        for column, value in row.items():
            if column.endswith("n") and value not in ("", MARK):
                out.append((row["区分"], column, int(value)))
    return out


# sqlite_only: the analysis reads the dataset once (tested on both backends in
# tests/ingest); the rest is the same computation on either, and it is the slow part.
@pytest.mark.sqlite_only
def test_analyze_writes_safe_tables(run, intake: Intake, issued: Issued, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    sent = answered(intake, issued, tmp_path)
    out = tmp_path / "analysis"
    result = run("analyze", "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == sent
    threshold = summary["threshold"]
    assert summary["audit_passed"] is True and summary["audit_violations"] == 0
    report = json.loads((out / "disclosure.json").read_text())
    assert report["violations"] == [] and report["audit_passed"] is True
    assert summary["suppressed_primary"] > 0  # 20 high-school answers: small domains exist
    for name in summary["files"]:
        assert Path(name).is_file() and Path(name).stat().st_size > 0, name
    for name in ("tables.xlsx", "dataset.sav", "codebook.xlsx"):
        assert (out / name).is_file()
    pngs = sorted((out / "charts").glob("*.png"))
    assert pngs and all(p.with_suffix(".pdf").is_file() for p in pngs)
    assert (out / "charts" / "general__k6_grid.png").is_file()
    exempt = ("design", "response_rates")
    tables = [
        p
        for p in (out / "tables").glob("*.csv")
        if p.stem not in exempt and not p.stem.startswith("opinions_")  # tested in test_opinions
    ]
    assert len(tables) == summary["tables"]
    counts = [c for p in tables for c in _published_counts(p)]
    assert counts, "something is published"
    for label, column, n in counts:
        if label == "回答者数（基数）":
            assert n >= threshold, (label, column, n)  # a published domain
        else:
            assert n == 0 or n >= threshold, (label, column, n)  # a published cell
    hidden = sum(p.read_text(encoding="utf-8-sig").count(MARK) for p in tables)
    assert hidden > 0
    # tables.xlsx has the 自由意見 excerpts sheet (none approved here) and no answer's text.
    book = load_workbook(out / "tables.xlsx", read_only=True)
    assert EXCERPTS_SHEET in book.sheetnames
    sheet_rows = [row for ws in book.worksheets for row in ws.iter_rows(values_only=True)]
    cells = {str(v) for row in sheet_rows for v in row}
    assert not cells & set(OPINIONS)
    # The microdata: k-anonymous at the threshold on its keys, no free text, as reported.
    micro = pd.read_csv(out / "microdata.csv", encoding="utf-8-sig")
    assert len(micro) == sum(c["published"] for c in summary["microdata"]["cohorts"].values())
    keys = ["cohort", "area", "child_stage_group", "grade_group", "age_group", "sex_group"]
    assert micro.groupby(keys, dropna=False).size().min() >= threshold
    assert not [c for c in micro.columns if c.endswith("_answered") or c == "response_id"]
    assert (out / "microdata.sav").is_file() and (out / "microdata.json").is_file()
    # Respondents' rows went out (dataset.sav, the microdata): an erasure must list them.
    with issued.db.session(write=False) as session:
        listed = handed_out(session, issued.settings, "default", "responses")
    rows = {"dataset.sav", "microdata.csv", "microdata.sav"}
    assert any(e["action"] == "file.analysis" and rows <= set(e["files"]) for e in listed), listed
