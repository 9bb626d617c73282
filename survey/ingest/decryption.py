"""Opening the web answers the office holds, into responses: nothing lost, nothing twice.

The study's private key is supplied for this run only (a key file and its passphrase) and
never written anywhere. Every sealed answer not yet opened is opened with
:func:`survey.decrypt.open_answer` (padding removed), its JSON parsed (any valid JSON: not
compared with the compact encoding), and checked: the study, cohort, form and version inside
must be the record's, every key must be a variable of that form. What passes is validated by
the item types (:func:`survey.forms.validate.validate`): out-of-range or impossible answers
become −8 with an edit-log line. What fails is **quarantined** with its reason, never
dropped. Accepted answers become :class:`survey.models.Response` rows with a new random id and
the ISO week only; free text goes to its own table.

Before anything is opened the run checks the cap: the web answers of a cohort can never
outnumber the web codes consumed for it (v2 bundles report them; with any v1 bundle, or
answers kept from before bundles, the issued codes of the cohort are the cap).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import nacl.public
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from survey.crypto import DecryptionError
from survey.db import transaction
from survey.decrypt import open_answer
from survey.errors import DataError
from survey.forms.loader import Form, load_forms
from survey.forms.validate import unknown_variables
from survey.ingest.accept import Outcome, accept_answers
from survey.keys import require_study_key
from survey.models import (
    AccessCode,
    BundleImport,
    Quarantine,
    Response,
    SealedResponse,
    Study,
)

BATCH = 200
Progress = Callable[[int, int], None]

# Why an answer is quarantined: a code for lists and scripts, and what it means.
REASONS: dict[str, tuple[str, str]] = {
    "cannot_open": ("復号できません（鍵違い・改ざん）", "cannot be opened (wrong key or altered)"),
    "not_json": ("中身が JSON ではありません", "the plaintext is not JSON"),
    "malformed": ("回答の形式が正しくありません", "the payload is not an answer"),
    "other_study": ("別の調査の回答です", "names another study"),
    "other_cohort": ("記録と対象・調査票が違います", "names another cohort or form version"),
    "unknown_form": ("この版の調査票がありません", "its form version is not defined here"),
    "unknown_item": ("調査票にない設問があります", "holds items its form does not have"),
}


@dataclass
class DecryptReport:
    study: str
    opened: Counter[str] = field(default_factory=Counter)  # accepted, by cohort
    quarantined: Counter[str] = field(default_factory=Counter)  # by reason
    edits: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "accepted": dict(self.opened),
            "accepted_total": sum(self.opened.values()),
            "quarantined": dict(self.quarantined),
            "quarantined_total": sum(self.quarantined.values()),
            "edits": self.edits,
        }


class CapExceeded(DataError):
    """More web answers than web codes consumed for a cohort: something is wrong upstream."""


def _study(session: Session, name: str) -> Study:
    study = session.exec(select(Study).where(Study.name == name)).first()
    if study is None:
        raise DataError(f"調査 {name} がありません。", f"No study named {name!r}.")
    return study


def web_caps(session: Session, study: Study) -> dict[str, int]:
    """The most web answers each cohort can have: its codes consumed on the web (v2 bundles
    report them), or all its issued codes when some answers came without such a list (a v1
    bundle, or answers a one-process installation kept from before bundles)."""
    unlisted = (
        session.exec(
            select(func.count()).where(
                SealedResponse.study_id == study.id, col(SealedResponse.import_id).is_(None)
            )
        ).one()
        + session.exec(
            select(func.count()).where(BundleImport.study_id == study.id, BundleImport.format == 1)
        ).one()
    )
    query = select(AccessCode.cohort, func.count()).where(AccessCode.study_id == study.id)
    if not unlisted:
        query = query.where(AccessCode.channel == "web")
    rows = session.exec(query.group_by(col(AccessCode.cohort))).all()
    return {cohort: int(n) for cohort, n in rows}


def _pending(session: Session, study: Study) -> dict[str, int]:
    rows = session.exec(
        select(SealedResponse.cohort, func.count())
        .where(SealedResponse.study_id == study.id, col(SealedResponse.opened).is_(False))
        .group_by(col(SealedResponse.cohort))
    ).all()
    return {cohort: int(n) for cohort, n in rows}


def _accepted_web(session: Session, study: Study) -> dict[str, int]:
    rows = session.exec(
        select(Response.cohort, func.count())
        .where(Response.study_id == study.id, Response.channel == "web")
        .group_by(col(Response.cohort))
    ).all()
    return {cohort: int(n) for cohort, n in rows}


def check_cap(session: Session, study: Study) -> None:
    caps, pending = web_caps(session, study), _pending(session, study)
    accepted = _accepted_web(session, study)
    over = [
        f"{c}: {accepted.get(c, 0) + n} > {caps.get(c, 0)}"
        for c, n in sorted(pending.items())
        if accepted.get(c, 0) + n > caps.get(c, 0)
    ]
    if over:
        raise CapExceeded(
            "Web の回答が、Web で使われたコードの数を超えています（何も復号していません）: "
            + "; ".join(over),
            "More web answers than web codes consumed (nothing was opened): " + "; ".join(over),
        )


def _open(
    study: Study,
    record: SealedResponse,
    key: nacl.public.PrivateKey,
    forms: dict[tuple[str, int], Form],
) -> Outcome:
    form = forms.get((record.form_id, record.version))
    if form is None:
        return Outcome(reason="unknown_form", detail=f"{record.form_id} v{record.version}")
    try:
        plain = open_answer(key, record.sealed, form.padded_size)
    except DecryptionError:
        return Outcome(reason="cannot_open")
    try:
        doc = json.loads(plain)
    except (ValueError, UnicodeDecodeError):
        return Outcome(reason="not_json")
    if not isinstance(doc, dict) or not isinstance(doc.get("answers"), dict):
        return Outcome(reason="malformed")
    if doc.get("study") != study.name:
        return Outcome(reason="other_study")
    if (doc.get("cohort"), doc.get("form"), doc.get("version")) != (
        record.cohort,
        record.form_id,
        record.version,
    ):
        return Outcome(reason="other_cohort")
    answers: dict[str, Any] = doc["answers"]
    unknown = unknown_variables(form, answers)
    if unknown:  # ids only (defined by us or by an attacker), never a value
        return Outcome(reason="unknown_item", detail=", ".join(unknown)[:400])
    if any(isinstance(v, dict) for v in answers.values()):
        return Outcome(reason="malformed")
    return accept_answers(study, record.cohort, "web", record.day, form, answers)


def decrypt_responses(
    engine: Engine,
    study_name: str,
    key: nacl.public.PrivateKey,
    progress: Progress | None = None,
    record: Callable[[Session, DecryptReport], None] | None = None,
) -> DecryptReport:
    """Open every sealed answer not opened yet; ``record`` audits the run (last batch)."""
    forms = load_forms()
    with transaction(engine, write=False) as session:
        study = _study(session, study_name)
        installed = require_study_key(session, study)
        if bytes(key.public_key) != installed.public_key:
            raise DataError(
                f"この鍵は調査 {study.name} の鍵ではありません（指紋 {installed.fingerprint}）。",
                f"This key is not study {study.name!r}'s key ({installed.fingerprint}).",
            )
        check_cap(session, study)
        ids = list(
            session.exec(
                select(SealedResponse.id).where(
                    SealedResponse.study_id == study.id, col(SealedResponse.opened).is_(False)
                )
            ).all()
        )
    report = DecryptReport(study_name)
    batches = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)] or [[]]
    for number, batch in enumerate(batches, start=1):
        with transaction(engine) as session:
            study = _study(session, study_name)
            if number == 1:
                check_cap(session, study)  # again, under the write lock
            for sealed_id in batch:
                row = session.get(SealedResponse, sealed_id)
                if row is None or row.opened:
                    continue
                outcome = _open(study, row, key, forms)
                if outcome.response is not None:
                    session.add(outcome.response)
                    session.flush()
                    session.add_all([*outcome.texts, *outcome.edits])
                    report.opened[row.cohort] += 1
                    report.edits += len(outcome.edits)
                else:
                    assert study.id is not None and outcome.reason is not None
                    session.add(
                        Quarantine(
                            study_id=study.id,
                            sealed_id=row.id,
                            cohort=row.cohort,
                            form_id=row.form_id,
                            version=row.version,
                            reason=outcome.reason,
                            detail=outcome.detail,
                            found_on=date.today(),
                        )
                    )
                    report.quarantined[outcome.reason] += 1
                row.opened = True
                session.add(row)
            if number == len(batches) and record is not None:
                record(session, report)
        if progress is not None:
            progress(min(number * BATCH, len(ids)), len(ids))
    return report


def quarantine_list(session: Session, study: Study) -> list[dict[str, Any]]:
    rows = session.exec(
        select(Quarantine).where(Quarantine.study_id == study.id).order_by(col(Quarantine.id))
    ).all()
    return [
        {
            "sealed_id": q.sealed_id,
            "cohort": q.cohort,
            "form": q.form_id,
            "version": q.version,
            "reason": q.reason,
            "reason_ja": REASONS[q.reason][0],
            "reason_en": REASONS[q.reason][1],
            "detail": q.detail,
            "found_on": q.found_on.isoformat(),
        }
        for q in rows
    ]
