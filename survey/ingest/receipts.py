"""The receipt log (受付): every returned envelope logged on arrival, before anything is keyed.

Each sheet gets a receipt number (受付番号, six digits, given in order), a batch and the day,
its cohort (from the label's tag or the form); blank returns and mail that never reached
anyone (宛先不明, 転居先不明, 受取拒否, 死亡・転出, 対象外) are logged too, per cohort, because
the weights need them: undeliverable and ineligible units leave the denominator (u_h).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from survey.cohorts import COHORTS
from survey.db import transaction
from survey.errors import DataError, UsageError
from survey.models import PaperReceipt, Study

RETURNED, BLANK, UNDELIVERABLE = "returned", "blank", "undeliverable"
STATUSES = (RETURNED, BLANK, UNDELIVERABLE)
STATUS_LABELS = {RETURNED: "回答あり", BLANK: "白票（未記入）", UNDELIVERABLE: "不達・対象外"}
REASONS = ("宛先不明", "転居先不明", "受取拒否", "死亡・転出", "対象外")
RECEIPT_NO = re.compile(r"[0-9]{6}")
MAX_PER_ENTRY = 2000  # one arrival logged at once: a day's mail, not a typo of 20000


@dataclass(frozen=True, slots=True)
class Logged:
    cohort: str
    status: str
    numbers: list[str]

    @property
    def span(self) -> str:
        return (
            self.numbers[0] if len(self.numbers) == 1 else f"{self.numbers[0]}–{self.numbers[-1]}"
        )


def study_named(session: Session, name: str) -> Study:
    study = session.exec(select(Study).where(Study.name == name)).first()
    if study is None:
        raise UsageError(f"調査 {name} がありません。", f"No study named {name!r}.")
    return study


def check_receipt_no(text: str) -> str:
    value = text.strip()
    if not RECEIPT_NO.fullmatch(value):
        raise UsageError(
            f"受付番号は6桁の数字です: {value[:16]}",
            f"A receipt number has six digits: {value[:16]!r}",
        )
    return value


def _next_number(session: Session, study: Study) -> int:
    last = session.exec(
        select(func.max(col(PaperReceipt.receipt_no))).where(PaperReceipt.study_id == study.id)
    ).one()
    return int(last) + 1 if last else 1


def new_receipt(
    session: Session,
    study: Study,
    cohort: str,
    batch: str,
    day: date,
    status: str = RETURNED,
    reason: str | None = None,
    receipt_no: str | None = None,
) -> PaperReceipt:
    """One receipt (numbered next unless ``receipt_no`` is given, as a vendor's batch does)."""
    if cohort not in COHORTS:
        raise UsageError(f"対象が不正です: {cohort}", f"Unknown cohort {cohort!r}.")
    if status not in STATUSES:
        raise UsageError(f"状態が不正です: {status}", f"Status is one of {', '.join(STATUSES)}.")
    if (status == UNDELIVERABLE) != (reason is not None):
        raise UsageError(
            f"不達・対象外には理由（{'・'.join(REASONS)}）が必要で、それ以外には不要です。",
            "An undeliverable return needs a reason, and only it has one.",
        )
    if reason is not None and reason not in REASONS:
        raise UsageError(f"理由が不正です: {reason}", f"Reason is one of {', '.join(REASONS)}.")
    batch = batch.strip()
    if not batch or len(batch) > 32:
        raise UsageError(
            "バッチ名（32文字まで）が必要です。", "A batch name (≤ 32 chars) is needed."
        )
    number = receipt_no or f"{_next_number(session, study):06d}"
    assert study.id is not None
    row = PaperReceipt(
        study_id=study.id,
        receipt_no=check_receipt_no(number),
        batch=batch,
        received_on=day,
        cohort=cohort,
        status=status,
        reason=reason,
        state="logged" if status == RETURNED else "closed",
    )
    session.add(row)
    session.flush()
    return row


def log(
    engine: Engine,
    study_name: str,
    cohort: str,
    batch: str,
    day: date,
    count: int = 1,
    status: str = RETURNED,
    reason: str | None = None,
    record: object = None,
) -> Logged:
    """Log ``count`` envelopes of one kind that arrived together; their receipt numbers."""
    if not 1 <= count <= MAX_PER_ENTRY:
        raise UsageError(f"通数は 1〜{MAX_PER_ENTRY} です。", f"The count is 1 to {MAX_PER_ENTRY}.")
    with transaction(engine) as session:
        study = study_named(session, study_name)
        numbers = [
            new_receipt(session, study, cohort, batch, day, status, reason).receipt_no
            for _ in range(count)
        ]
        logged = Logged(cohort, status, numbers)
        if callable(record):
            record(session, logged)
    return logged


def receipt(session: Session, study: Study, receipt_no: str) -> PaperReceipt:
    row = session.exec(
        select(PaperReceipt).where(
            PaperReceipt.study_id == study.id,
            PaperReceipt.receipt_no == check_receipt_no(receipt_no),
        )
    ).first()
    if row is None:
        raise DataError(
            f"受付番号 {receipt_no} は受付されていません。",
            f"Receipt {receipt_no} has not been logged.",
        )
    return row


def _counted(session: Session, study: Study, *where: object) -> list[tuple[str, date, int]]:
    rows = session.exec(
        select(col(PaperReceipt.cohort), col(PaperReceipt.received_on), func.count())
        .where(PaperReceipt.study_id == study.id, *where)  # type: ignore[arg-type]
        .group_by(col(PaperReceipt.cohort), col(PaperReceipt.received_on))
    ).all()
    return [(str(c), d, int(n)) for c, d, n in rows]


def returned_by_day(session: Session, study: Study) -> dict[str, dict[date, int]]:
    """Sheets with answers, per cohort and day of arrival (blank returns are not answers)."""
    out: dict[str, dict[date, int]] = defaultdict(dict)
    for cohort, day, n in _counted(session, study, PaperReceipt.status == RETURNED):
        out[cohort][day] = n
    return out


def undeliverable(session: Session, study: Study) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for cohort, _day, n in _counted(session, study, PaperReceipt.status == UNDELIVERABLE):
        out[cohort] += n
    return dict(out)


def summary(session: Session, study: Study) -> dict[str, dict[str, int]]:
    """Per cohort: received (with answers), blank, keyed (accepted or set aside), undeliverable,
    and what still waits for keying or reconciliation."""
    rows = session.exec(
        select(
            col(PaperReceipt.cohort),
            col(PaperReceipt.status),
            col(PaperReceipt.state),
            func.count(),
        )
        .where(PaperReceipt.study_id == study.id)
        .group_by(col(PaperReceipt.cohort), col(PaperReceipt.status), col(PaperReceipt.state))
    ).all()
    out: dict[str, dict[str, int]] = {}
    for cohort, status, state, n in rows:
        c = out.setdefault(
            str(cohort),
            {
                "received": 0,
                "blank": 0,
                "undeliverable": 0,
                "keyed": 0,
                "duplicate": 0,
                "waiting": 0,
            },
        )
        if status == RETURNED:
            c["received"] += n
            key = {"accepted": "keyed", "duplicate": "duplicate"}.get(str(state), "waiting")
            c[key] += n
            if state == "duplicate":
                c["keyed"] += n
        else:
            c["blank" if status == BLANK else "undeliverable"] += n
    return out
