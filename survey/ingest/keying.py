"""Keying paper sheets: double entry by two officers, reconciliation, acceptance.

A sheet is keyed by its receipt number: the access code written on it (check symbol verified:
a mistyped code is refused at once, an unreadable or missing one is keyed as such), then every
variable as typed (:func:`survey.forms.items.base.keyed_answer` reads the paper keys). With the
study setting ``keying=double`` (the default) two different officers key each sheet, neither
seeing the other's entry; the two are compared field by field (free text after NFKC): equal
sheets are accepted, others wait for a reconciliation that decides each differing field. With
``keying=single`` one entry is accepted, with warnings for what the validation changes.

Acceptance (:func:`accept`) consumes the code. A code already used (on the web, or by another
sheet) makes the record a duplicate, set aside for review and never counted twice: the sheet
received earlier wins; a web answer wins over any sheet, since the web answer that used the
code cannot be told apart from the others (bundles never pair a code with an answer). A sheet
without a readable code, or with a code this office never issued, is accepted and flagged.
The entries keep what was typed; the response holds the values the editing rules give (skip
violations −1, impossible answers −8, each with an edit-log line).
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, delete, select

from survey.codes import CodeFormatError, code_hash_key, normalize
from survey.crypto import code_hash
from survey.db import transaction
from survey.errors import DataError, UsageError
from survey.forms.items import kind
from survey.forms.items.base import JS_WHITESPACE, keyed_answer
from survey.forms.loader import Form, load_forms
from survey.forms.versions import form_for_cohort
from survey.ingest.accept import accept_answers
from survey.ingest.receipts import RETURNED, receipt, study_named
from survey.models import (
    AccessCode,
    EditLog,
    FreeText,
    OpinionCoding,
    PaperEntry,
    PaperReceipt,
    Response,
    Study,
)
from survey.settings import Settings
from survey.study import effective_settings

CODE = "code"  # the field name of the access code in comparisons and reconciliation
UNREADABLE_CODE = ("", "/", "-6")  # nothing written, or 判読不能


@dataclass(frozen=True, slots=True)
class Sheet:
    """What one operator typed for one sheet: the code and each variable, as typed."""

    code: str
    values: dict[str, str]


@dataclass
class Keyed:
    receipt_no: str
    pass_no: int
    state: str  # logged (waits for the second keying) | reconcile | accepted | duplicate
    differences: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    flag: str | None = None


def form_of(session: Session, study: Study, cohort: str) -> Form:
    form = form_for_cohort(session, study, cohort, load_forms())
    if form is None:
        raise DataError(f"{cohort} の調査票がありません。", f"No form for cohort {cohort!r}.")
    return form


def code_state(settings: Settings, study: Study, typed: str) -> tuple[str, bytes | None]:
    """``ok`` with the keyed hash, or ``none`` (nothing readable); a mistyped code raises.

    Only the hash is kept: a plaintext code exists only in its print file (invariant 2).
    """
    text = unicodedata.normalize("NFKC", typed).strip(JS_WHITESPACE)
    if text in UNREADABLE_CODE:
        return "none", None
    try:
        canonical = normalize(text)
    except CodeFormatError as exc:
        raise UsageError(
            f"アクセスコードを確認してください（{exc.ja}）。読めない場合は / を入力します。",
            f"Check the access code ({exc.en}); key / if it cannot be read.",
        ) from None
    return "ok", code_hash(code_hash_key(settings, study.name), canonical)


def answers_of(form: Form, values: dict[str, Any]) -> dict[str, Any]:
    """The keyed fields as raw answers (what validate reads), one per variable of the form."""
    out: dict[str, Any] = {}
    for item in form.items():
        item_kind = kind(item)
        for var in item_kind.variables(item):
            out[var.id] = keyed_answer(item_kind, var, values.get(var.id))
    return out


def _comparable(value: Any) -> Any:
    # Free text is compared after NFKC: full- and half-width forms of one text are one text.
    return (
        unicodedata.normalize("NFKC", value).strip(JS_WHITESPACE)
        if isinstance(value, str)
        else value
    )


def differences(form: Form, a: PaperEntry, b: PaperEntry) -> list[str]:
    """The fields (``code`` first, then variables in the form's order) two entries differ in."""
    out = [CODE] if (a.code_state, a.code_hash) != (b.code_state, b.code_hash) else []
    raw_a, raw_b = answers_of(form, a.values), answers_of(form, b.values)
    return out + [v for v in raw_a if _comparable(raw_a[v]) != _comparable(raw_b[v])]


def entries_of(session: Session, row: PaperReceipt) -> dict[int, PaperEntry]:
    found = session.exec(select(PaperEntry).where(PaperEntry.receipt_id == row.id)).all()
    return {e.pass_no: e for e in found}


def _keyable(row: PaperReceipt) -> None:
    if row.status != RETURNED:
        raise DataError(
            f"受付番号 {row.receipt_no} は白票・不達として受付されています。",
            f"Receipt {row.receipt_no} was logged as blank or undeliverable.",
        )
    if row.state in ("accepted", "duplicate"):
        raise DataError(
            f"受付番号 {row.receipt_no} は入力済みです。", f"Receipt {row.receipt_no} is done."
        )


def _entry(
    settings: Settings, study: Study, row: PaperReceipt, form: Form, pass_no: int,
    operator: str, sheet: Sheet, day: date,
) -> PaperEntry:  # fmt: skip
    state, digest = code_state(settings, study, sheet.code)
    known = {v.id for v in form.variables()}
    unknown = sorted(set(sheet.values) - known)
    if unknown:
        raise UsageError(
            f"調査票にない項目です: {', '.join(unknown)[:200]}",
            f"Not variables of the form: {', '.join(unknown)[:200]}",
        )
    assert row.id is not None
    return PaperEntry(
        receipt_id=row.id,
        pass_no=pass_no,
        operator=operator,
        form_id=form.id,
        version=form.version,
        code_state=state,
        code_hash=digest,
        values={k: v for k, v in sheet.values.items() if v.strip(JS_WHITESPACE)},
        keyed_on=day,
    )


def enter(
    engine: Engine, settings: Settings, study_name: str, receipt_no: str, operator: str,
    sheet: Sheet, day: date | None = None, record: Any = None,
) -> Keyed:  # fmt: skip
    """Store one keying of a sheet; accept it when the pair agrees (or in single keying)."""
    with transaction(engine) as session:
        study = study_named(session, study_name)
        row = receipt(session, study, receipt_no)
        _keyable(row)
        form = form_of(session, study, row.cohort)
        entries = entries_of(session, row)
        double = effective_settings(study)["keying"] == "double"
        if row.state == "reconcile" or len(entries) >= (2 if double else 1):
            raise DataError(
                f"受付番号 {row.receipt_no} は照合待ちです。",
                f"Receipt {row.receipt_no} waits for reconciliation.",
            )
        if any(e.operator == operator for e in entries.values()):
            raise DataError(
                "二重入力の2回目は、別の職員が入力します。",
                "The second keying of a sheet must be done by another officer.",
            )
        pass_no = len(entries) + 1
        entry = _entry(settings, study, row, form, pass_no, operator, sheet, day or date.today())
        session.add(entry)
        session.flush()
        result = Keyed(row.receipt_no, pass_no, "logged")
        if not double:
            result = accept_entry(session, study, row, form, entry, result)
        elif pass_no == 2:
            result.differences = differences(form, entries[1], entry)
            if result.differences:
                row.state = result.state = "reconcile"
                session.add(row)
            else:
                result = accept_entry(session, study, row, form, entry, result)
        if record is not None:
            record(session, result)
    return result


def pending(
    engine: Engine, study_name: str, receipt_no: str
) -> tuple[Form, PaperEntry, PaperEntry, list[str]]:
    """Both entries of a sheet waiting for reconciliation, and the fields they differ in."""
    with Session(engine) as session:
        study = study_named(session, study_name)
        row = receipt(session, study, receipt_no)
        if row.state != "reconcile":
            raise DataError(
                f"受付番号 {row.receipt_no} は照合待ちではありません。",
                f"Receipt {row.receipt_no} does not wait for reconciliation.",
            )
        form = form_of(session, study, row.cohort)
        entries = entries_of(session, row)
        return form, entries[1], entries[2], differences(form, entries[1], entries[2])


def reconcile(
    engine: Engine, settings: Settings, study_name: str, receipt_no: str, operator: str,
    decided: dict[str, str], record: Any = None,
) -> Keyed:  # fmt: skip
    """A third look decides every differing field (``code`` too, retyped from the sheet)."""
    with transaction(engine) as session:
        study = study_named(session, study_name)
        row = receipt(session, study, receipt_no)
        _keyable(row)
        form = form_of(session, study, row.cohort)
        entries = entries_of(session, row)
        if row.state != "reconcile" or 3 in entries:
            raise DataError(
                f"受付番号 {row.receipt_no} は照合待ちではありません。",
                f"Receipt {row.receipt_no} does not wait for reconciliation.",
            )
        fields = differences(form, entries[1], entries[2])
        missing = [f for f in fields if f not in decided]
        if missing:
            raise UsageError(
                f"すべての相違を決めてください: {', '.join(missing)}",
                f"Decide every differing field: {', '.join(missing)}",
            )
        values = dict(entries[1].values)
        values.update({k: v for k, v in decided.items() if k in fields and k != CODE})
        code = decided[CODE] if CODE in fields else None
        final = _entry(settings, study, row, form, 3, operator, Sheet("", values), date.today())
        if code is not None:
            final.code_state, final.code_hash = code_state(settings, study, code)
        else:
            final.code_state, final.code_hash = entries[1].code_state, entries[1].code_hash
        session.add(final)
        session.flush()
        result = accept_entry(session, study, row, form, final, Keyed(row.receipt_no, 3, "logged"))
        result.differences = fields
        if record is not None:
            record(session, result)
    return result


# --- acceptance ------------------------------------------------------------------------------


def set_aside(session: Session, row: PaperReceipt, flag: str) -> None:
    """Move an accepted sheet out of the dataset (its response rows go), kept for review."""
    if row.response_id is not None:
        texts = select(col(FreeText.id)).where(col(FreeText.response_id) == row.response_id)
        session.exec(delete(OpinionCoding).where(col(OpinionCoding.free_text_id).in_(texts)))
        for table in (FreeText, EditLog):
            session.exec(delete(table).where(col(table.response_id) == row.response_id))
        session.exec(delete(Response).where(col(Response.id) == row.response_id))
    row.state, row.flag, row.response_id = "duplicate", flag, None
    session.add(row)


def _earlier(a: PaperReceipt, b: PaperReceipt) -> bool:
    return (a.received_on, a.receipt_no) < (b.received_on, b.receipt_no)


def accept_entry(
    session: Session, study: Study, row: PaperReceipt, form: Form, entry: PaperEntry, result: Keyed
) -> Keyed:
    raw = answers_of(form, entry.values)
    outcome = accept_answers(study, row.cohort, "paper", row.received_on, form, raw)
    assert outcome.response is not None
    result.warnings = [f"{e.variable}: {e.reason}" for e in outcome.edits]
    row.code_hash = entry.code_hash
    flag = None if entry.code_hash else ("bad_code" if entry.code_state == "invalid" else "no_code")
    code = None if entry.code_hash is None else session.get(AccessCode, entry.code_hash)
    if entry.code_hash is not None and (code is None or code.study_id != study.id):
        flag = "unknown_code"
    elif code is not None and code.used:
        if code.channel != "paper":
            set_aside(session, row, "used_on_web")
            result.state, result.flag = "duplicate", "used_on_web"
            return result
        other = session.exec(
            select(PaperReceipt).where(
                PaperReceipt.study_id == study.id,
                PaperReceipt.code_hash == code.hash,
                PaperReceipt.state == "accepted",
            )
        ).first()
        if other is None or not _earlier(row, other):
            set_aside(session, row, "used_on_paper")
            result.state, result.flag = "duplicate", "used_on_paper"
            return result
        set_aside(session, other, "used_on_paper")  # this sheet came first: it wins
    elif code is not None:
        code.used, code.channel = True, "paper"
        session.add(code)
    if code is not None and code.cohort != row.cohort:
        flag = "other_cohort"
    session.add(outcome.response)
    session.flush()  # the response row first: free text and edits refer to it
    session.add_all([*outcome.texts, *outcome.edits])
    row.state, row.flag, row.response_id = "accepted", flag, outcome.response.id
    session.add(row)
    result.state, result.flag = "accepted", flag
    return result


# --- operators -------------------------------------------------------------------------------


def operator_rates(engine: Engine, study_name: str) -> list[dict[str, Any]]:
    """Per operator: sheets and fields keyed in double entry, and the fields where their entry
    differed from the accepted one (agreed pairs have none), as a rate."""
    with Session(engine) as session:
        study = study_named(session, study_name)
        forms = load_forms()
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        rows = session.exec(
            select(PaperReceipt).where(
                PaperReceipt.study_id == study.id,
                PaperReceipt.state.in_(("accepted", "duplicate")),  # type: ignore[attr-defined]
            )
        ).all()
        for row in rows:
            entries = entries_of(session, row)
            if 1 not in entries or 2 not in entries:
                continue
            form = forms[(entries[1].form_id, entries[1].version)]
            final = entries.get(3, entries[1])
            for e in (entries[1], entries[2]):
                t = tally[e.operator]
                t[0] += 1
                t[1] += len(form.variables()) + 1
                t[2] += len(differences(form, e, final))
    return [
        {"operator": name, "sheets": s, "fields": f, "errors": x, "rate": x / f if f else 0.0}
        for name, (s, f, x) in sorted(tally.items())
    ]
