"""Vendor batches: the template, every error class, CP932 and UTF-8, idempotence, flags."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from survey.errors import DataError
from survey.forms.loader import load_forms
from survey.ingest import receipts, vendor
from survey.models import PaperReceipt, Response
from tests.conftest import Issued

DAY = date(2026, 6, 3)
FORM = load_forms()[("general", 2)]


def sheet(tmp_path: Path, rows: list[dict[str, str]], encoding: str = "utf-8") -> Path:
    header = ["receipt_no", "code", *(c.name for c in vendor.columns(FORM))]
    buffer = io.StringIO()
    w = csv.DictWriter(buffer, header, restval="", lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    path = tmp_path / f"batch-{len(list(tmp_path.glob('batch-*')))}.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def imported(issued: Issued, path: Path) -> vendor.ImportReport:
    return vendor.import_batch(issued.db.engine, issued.settings, issued.study, path, "general")


def test_the_template_names_every_column_and_explains_its_codes(drawn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "general.csv"
    result = drawn("paper", "template", "--form", "general.v2", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    header = out.read_text(encoding="utf-8").strip().split(",")
    assert header[:2] == ["receipt_no", "code"] and all(h.isascii() for h in header)
    assert "k6_1" in header and "sex" in header
    multi = next(v for v in FORM.variables() if v.type == "multi")
    assert [h for h in header if h.startswith(multi.id + "_")] == [
        f"{multi.id}_{o.code}" for o in multi.options
    ]
    codes = list(csv.reader(io.StringIO((tmp_path / "general.codes.csv").read_text("utf-8-sig"))))
    explained = {row[0]: row for row in codes[1:]}
    assert set(explained) == set(header)
    assert "1=" in explained["sex"][2] and "-6=判読不能" in explained["sex"][2]


def test_a_batch_is_imported_once_and_joins_the_dataset(issued: Issued, tmp_path: Path) -> None:
    c1, c2 = issued.codes["general"][:2]
    rows = [
        {"receipt_no": "900001", "code": c1, "sex": "2", "k6_1": "", "opinion": "自由記述"},
        {"receipt_no": "900002", "code": "", "sex": "-6"},  # no code: a flag, not an error
        {"receipt_no": "900003", "code": c2[:-1] + ("1" if c2[-1] == "0" else "0"), "sex": "1"},
    ]
    path = sheet(tmp_path, rows, "cp932")
    report = imported(issued, path)
    assert (report.rows, report.created, report.accepted, report.unchanged) == (3, 3, 3, 0)
    assert report.flags == {"no_code": 1, "bad_code": 1}
    again = imported(issued, path)  # the same file: nothing changes
    assert (again.accepted, again.unchanged, again.created) == (0, 3, 0)
    with Session(issued.db.engine) as session:
        answers = sorted(r.answers["sex"] for r in session.exec(select(Response)).all())
        assert answers == [-6, 1, 2]
        first = session.exec(select(Response).where(Response.answers.isnot(None))).all()  # type: ignore[attr-defined]
        assert all(r.channel == "paper" for r in first)
        assert {r.answers["k6_1"] for r in first} == {-9}  # empty cell = no answer
    changed = sheet(tmp_path, [{**rows[0], "sex": "1"}])
    with pytest.raises(DataError, match="2行目 receipt_no"):
        imported(issued, changed)


def test_every_error_is_reported_with_line_and_column_and_nothing_stored(
    issued: Issued, tmp_path: Path
) -> None:
    multi = next(v for v in FORM.variables() if v.type == "multi")
    rows = [
        {"receipt_no": "12345", "sex": "1"},  # malformed receipt number
        {"receipt_no": "900010", "sex": "7", "opinion": "山田太郎の悪口"},  # outside the codes
        {"receipt_no": "900011", f"{multi.id}_{multi.options[0].code}": "2"},  # not 0/1
        {"receipt_no": "900012", "sex": "1"},  # fine, but the batch is all or nothing
    ]
    path = sheet(tmp_path, rows)
    with path.open("a", encoding="utf-8") as fh:
        fh.write("900013,,1\r\n")  # an unreadable row: too few cells
    with pytest.raises(vendor.BatchError) as caught:
        imported(issued, path)
    found = {(e.line, e.column) for e in caught.value.errors}
    assert found == {
        (2, "receipt_no"), (3, "sex"), (4, f"{multi.id}_{multi.options[0].code}"), (6, "-"),
    }  # fmt: skip
    message = str(caught.value)
    assert "（7）" in message and "山田" not in message  # coded values echoed, never free text
    with Session(issued.db.engine) as session:
        assert session.exec(select(PaperReceipt)).all() == []


def test_utf8_with_bom_and_a_receipt_logged_before(issued: Issued, tmp_path: Path) -> None:
    (no,) = receipts.log(issued.db.engine, issued.study, "general", "B1", DAY, 1).numbers
    path = sheet(tmp_path, [{"receipt_no": no, "code": issued.codes["general"][0], "sex": "1"}])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    report = imported(issued, path)
    assert report.created == 0 and report.accepted == 1
    with pytest.raises(DataError, match="見出し行"):
        bad = tmp_path / "bad.csv"
        bad.write_text("receipt_no,code,sex\r\n900100,,1\r\n", encoding="utf-8")
        imported(issued, bad)
