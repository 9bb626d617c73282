"""Batches keyed by a data-entry vendor: the empty sheet, and the all-or-nothing import.

The sheet (:func:`template`) has ASCII headers ``receipt_no,code,<variables>``: one column per
variable (a grid row is its own variable, ``k6_1``), a multiple choice as one 0/1 column per
option (``<item>_<code>``), free text as written. Beside it, ``FILE.codes.csv`` explains each
column's codes in Japanese. :func:`import_batch` checks every row before it stores anything:
each error is reported with its file line (header = line 1), column and reason, echoing the
value only for coded columns (never free text, which may say anything about anyone). A batch
a vendor keyed counts as verified there (no second entry here). Empty cell = −9 (or −1 where
the skip logic hides the item); a receipt number not logged yet creates its receipt; a bad or
missing code is a flag on the record, not an error; the same file again changes nothing, and a
known receipt number with other content is an error.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from survey import spreadsheet
from survey.db import transaction
from survey.errors import DataError, UsageError
from survey.forms.items.base import Variable
from survey.forms.loader import Form, load_forms
from survey.forms.schema import ILLEGIBLE, INVALID, NO_ANSWER, REFUSED
from survey.forms.versions import form_for_cohort
from survey.ingest.keying import Keyed, accept_entry, code_state, entries_of
from survey.ingest.receipts import RECEIPT_NO, new_receipt, study_named
from survey.models import PaperEntry, PaperReceipt, Study
from survey.settings import Settings

VENDOR_PASS = 0
PAPER_MISSING = {str(c): c for c in (ILLEGIBLE, INVALID, NO_ANSWER, REFUSED)}
MISSING_HELP = "空欄=無回答, -6=判読不能, -8=無効（複数に○など）, -9=無回答"
FREE_TEXT = ("text", "longtext")


def resolve_form(session: Session, study: Study, given: str) -> Form:
    """``general`` (the version frozen for the study) or ``general.v1``."""
    forms = load_forms()
    match = re.fullmatch(r"([a-z_]+)(?:\.v([0-9]+))?", given.strip())
    form = None
    if match and match.group(2):
        form = forms.get((match.group(1), int(match.group(2))))
    elif match:
        ids = {f.cohort for f in forms.values() if f.id == match.group(1)}
        form = form_for_cohort(session, study, ids.pop(), forms) if len(ids) == 1 else None
    if form is None:
        known = ", ".join(sorted({f.id for f in forms.values()}))
        raise UsageError(
            f"調査票 {given} がありません（{known}、版は general.v1 のように）。",
            f"No form {given!r} (one of {known}; a version as general.v1).",
        )
    return form


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    var: Variable
    option: int | None = None  # a multiple choice's 0/1 column for this option code


def columns(form: Form) -> list[Column]:
    out = []
    for var in form.variables():
        if var.type == "multi":
            out += [Column(f"{var.id}_{o.code}", var, o.code) for o in var.options]
        else:
            out.append(Column(var.id, var))
    return out


def _codes_text(col: Column) -> str:
    var = col.var
    if col.option is not None:
        return "1=○あり, 0または空欄=○なし"
    if var.type in FREE_TEXT:
        return f"記入のとおり（{var.item.max_length or ''}字まで）、空欄=無回答"
    if var.type == "integer":
        return f"{var.item.min}〜{var.item.max} の整数, {MISSING_HELP}"
    labels = ", ".join(f"{o.code}={o.label.ja}" for o in var.options)
    refused = ", -7=答えたくない" if var.item.sensitive else ""
    return f"{labels}{refused}, {MISSING_HELP}"


def template(form: Form, out: Path) -> Path:
    """The empty sheet ``out`` and its explanation ``<out>.codes.csv``; returns the latter."""
    cols = columns(form)
    buffer = io.StringIO()
    spreadsheet.writer(buffer).writerow(["receipt_no", "code", *(c.name for c in cols)])
    out.write_text(buffer.getvalue(), encoding="utf-8")
    codes = out.with_name(out.stem + ".codes.csv")
    buffer = io.StringIO()
    w = spreadsheet.writer(buffer)
    w.writerow(["列", "設問", "コード"])
    w.writerow(["receipt_no", "受付番号", "6桁の数字（封筒の受付印）"])
    w.writerow(["code", "アクセスコード", "表紙に記入されたとおり、読めなければ空欄"])
    for c in cols:
        option = next((o for o in c.var.options if o.code == c.option), None)
        text = c.var.text.ja + (f" — {option.label.ja}" if option else "")
        w.writerow([c.name, text, _codes_text(c)])
    codes.write_text("\ufeff" + buffer.getvalue(), encoding="utf-8")
    return codes


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    column: str
    reason: str


class BatchError(DataError):
    def __init__(self, errors: list[RowError]) -> None:
        shown = errors[:50]
        lines = "\n".join(f"  {e.line}行目 {e.column}: {e.reason}" for e in shown)
        more = f"\n  ほか {len(errors) - len(shown)} 件" if len(errors) > len(shown) else ""
        super().__init__(
            f"{len(errors)} 件の誤りがあるため、何も取り込んでいません:\n{lines}{more}",
            f"{len(errors)} errors: nothing was imported (line, column, reason above).",
        )
        self.errors = errors


def decode(raw: bytes) -> str:
    """UTF-8 with or without BOM, or CP932 (what Excel in Japan saves)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        try:
            return raw.decode("cp932")
        except UnicodeDecodeError:
            raise DataError(
                "文字コードが UTF-8 でも Shift_JIS (CP932) でもありません。",
                "The file is neither UTF-8 nor CP932.",
            ) from None


def _cell(col: Column, value: str, line: int, errors: list[RowError]) -> str:
    """The cell as keying would type it, or an error (coded values echoed, text never)."""
    v = value.strip()
    var = col.var
    if col.option is not None:
        if v not in ("", "0", "1"):
            errors.append(RowError(line, col.name, f"0 か 1 です（{v[:10]}）"))
        return v
    if v == "" or var.type in FREE_TEXT:
        return value if var.type in FREE_TEXT else ""
    if v in PAPER_MISSING and (v != str(REFUSED) or var.item.sensitive):
        return v
    if var.type == "integer":
        low, high = var.item.min, var.item.max
        ok = v.isdigit() and low is not None and high is not None and low <= int(v) <= high
    else:
        ok = v.isdigit() and int(v) in {o.code for o in var.options}
    if not ok:
        errors.append(RowError(line, col.name, f"この設問のコードではありません（{v[:10]}）"))
    return v


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0  # receipts the batch created
    accepted: int = 0
    duplicates: int = 0
    flagged: int = 0
    unchanged: int = 0  # rows already imported with the same content
    flags: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "flagged": self.flagged,
            "unchanged": self.unchanged,
            "flags": self.flags,
        }


def _parse(text: str, cols: list[Column]) -> list[tuple[int, str, str, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    expected = ["receipt_no", "code", *(c.name for c in cols)]
    if header is None:
        raise DataError("ファイルが空です。", "The file is empty.")
    if [h.strip() for h in header] != expected:
        missing = [c for c in expected if c not in header]
        extra = [h for h in header if h not in expected]
        lacking, surplus = ", ".join(missing)[:200] or "なし", ", ".join(extra)[:200] or "なし"
        raise DataError(
            "見出し行が調査票の様式と違います（survey paper template の様式を使ってください）。"
            f" 不足: {lacking} / 余分: {surplus}",
            f"The header is not the form's template. Missing: {missing[:10]}, extra: {extra[:10]}",
        )
    errors: list[RowError] = []
    rows = []
    seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(expected):
            errors.append(RowError(line, "-", f"列の数が {len(cells)} です（{len(expected)} 列）"))
            continue
        receipt_no = cells[0].strip()
        if not RECEIPT_NO.fullmatch(receipt_no):
            errors.append(
                RowError(line, "receipt_no", f"6桁の数字ではありません（{receipt_no[:10]}）")
            )
        elif receipt_no in seen:
            errors.append(RowError(line, "receipt_no", f"{seen[receipt_no]}行目と同じ番号です"))
        seen.setdefault(receipt_no, line)
        multi: dict[str, list[str]] = {}
        values: dict[str, str] = {}
        for col, value in zip(cols, cells[2:], strict=True):
            typed = _cell(col, value, line, errors)
            if col.option is not None:
                picks = multi.setdefault(col.var.id, [])
                if typed == "1":
                    picks.append(str(col.option))
            elif typed:
                values[col.var.id] = typed
        values.update({k: " ".join(v) for k, v in multi.items() if v})
        rows.append((line, receipt_no, cells[1], values))
    if errors:
        raise BatchError(errors)
    return rows


def _code(settings: Settings, study: Study, typed: str) -> tuple[str, bytes | None]:
    try:
        return code_state(settings, study, typed)
    except UsageError:
        return "invalid", None  # a code that fails its check symbol: a flag, not an error


def import_batch(
    engine: Engine, settings: Settings, study_name: str, path: Path, form_name: str,
    record: Any = None,
) -> ImportReport:  # fmt: skip
    text = decode(path.read_bytes())
    report = ImportReport()
    with transaction(engine) as session:
        study = study_named(session, study_name)
        form = resolve_form(session, study, form_name)
        rows = _parse(text, columns(form))
        report.rows = len(rows)
        errors: list[RowError] = []
        todo = []
        for line, receipt_no, typed_code, values in rows:
            state, digest = _code(settings, study, typed_code)
            row = session.exec(
                select(PaperReceipt).where(
                    PaperReceipt.study_id == study.id, PaperReceipt.receipt_no == receipt_no
                )
            ).first()
            entries = {} if row is None else entries_of(session, row)
            mine = entries.get(VENDOR_PASS)
            if mine is not None:
                same = (mine.code_state, mine.code_hash, mine.values) == (state, digest, values)
                if same and mine.form_id == form.id and mine.version == form.version:
                    report.unchanged += 1
                else:
                    errors.append(RowError(line, "receipt_no", "取込済みの番号で、内容が違います"))
                continue
            if row is not None and (row.cohort != form.cohort or row.state != "logged" or entries):
                errors.append(
                    RowError(line, "receipt_no", "この番号は別の対象か、入力済み・入力中です")
                )
                continue
            todo.append((row, receipt_no, state, digest, values))
        if errors:
            raise BatchError(errors)
        for row, receipt_no, state, digest, values in todo:
            if row is None:
                row = new_receipt(
                    session, study, form.cohort, path.stem[:32] or "vendor", date.today(),
                    receipt_no=receipt_no,
                )  # fmt: skip
                report.created += 1
            assert row.id is not None
            entry = PaperEntry(
                receipt_id=row.id,
                pass_no=VENDOR_PASS,
                operator="vendor",
                form_id=form.id,
                version=form.version,
                code_state=state,
                code_hash=digest,
                values=values,
                keyed_on=date.today(),
            )
            session.add(entry)
            session.flush()
            result = accept_entry(
                session, study, row, form, entry, Keyed(row.receipt_no, VENDOR_PASS, "logged")
            )
            if result.state == "duplicate":
                report.duplicates += 1
            else:
                report.accepted += 1
            if result.flag:
                report.flagged += 1
                report.flags[result.flag] = report.flags.get(result.flag, 0) + 1
        if record is not None:
            record(session, report)
    return report
