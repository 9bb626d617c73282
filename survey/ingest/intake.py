"""Intake on the collector: check an access code, store a sealed answer, consume the code.

Public side only: this module sees a code and sealed bytes, never a plaintext answer, and
stores nothing about the client. It imports no decryption, roster or analysis code.

Storing an answer is one transaction: the code is consumed with
``UPDATE … WHERE hash = :h AND NOT used`` (on SQLite inside ``BEGIN IMMEDIATE``, so the write
lock is held before the code is read), and the sealed bytes are inserted with a random id,
the cohort, form, version and the day in Asia/Tokyo. Of any number of simultaneous
submissions of one code exactly one succeeds; identical sealed bytes are refused (a replay).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from survey.access_codes import code_hash_key
from survey.codes import CodeFormatError, normalize
from survey.crypto import KeyMissingError, code_hash
from survey.errors import SurveyError
from survey.forms.loader import Form, load_forms
from survey.forms.versions import check_frozen, form_for_cohort
from survey.keys import get_study_key
from survey.models import AccessCode, SealedResponse, Study
from survey.settings import Settings
from survey.study import effective_settings, list_studies

TOKYO = ZoneInfo("Asia/Tokyo")
log = logging.getLogger("survey.collector")
SEAL_OVERHEAD = 48


class IntakeError(SurveyError):
    """A refusal with the HTTP status the public API answers with."""

    status = 400


class Malformed(IntakeError):
    status = 400


class PaperOnly(IntakeError):
    status = 403


class UnknownCode(IntakeError):
    status = 404


class CodeUsed(IntakeError):
    status = 409


class Duplicate(IntakeError):
    status = 409


class Busy(IntakeError):
    status = 503


class NotReady(IntakeError):
    """No study to collect for yet (no study, no study key or no codes): 503."""

    status = 503


class UnknownForm(IntakeError):
    status = 404


class RateLimited(IntakeError):
    status = 429


def not_ready() -> NotReady:
    return NotReady(
        "Web回答の受付はまだ始まっていません。", "This collector is not accepting answers yet."
    )


def busy() -> Busy:
    return Busy(
        "ただいま混み合っています。少し待ってからもう一度送信してください。",
        "The server is busy; please submit again in a moment.",
    )


def rate_limited() -> RateLimited:
    return RateLimited(
        "しばらく時間をおいてから、もう一度お試しください。",
        "Too many unknown codes from this address; please wait and try again.",
    )


def _unknown() -> UnknownCode:
    # One reply for every unknown code, whatever is wrong with it (typo, never issued).
    return UnknownCode("このアクセスコードは見つかりません。", "Unknown access code.")


def _used() -> CodeUsed:
    return CodeUsed(
        "このアクセスコードはすでに使われています。", "This access code has already been used."
    )


def _paper() -> PaperOnly:
    return PaperOnly(
        "この調査票は紙でご回答ください（Web回答の対象ではありません）。",
        "This cohort answers on paper only.",
    )


def today_in_tokyo() -> date:
    # Only the day is kept: a time of day could be matched against other records.
    return datetime.now(TOKYO).date()


@dataclass(frozen=True, slots=True)
class CodeInfo:
    study: str
    cohort: str
    form: Form


def active_study(engine: Engine, settings: Settings) -> str:
    """The study a collector serves: ``SURVEY_STUDY``, else the only one (with a study key)."""
    with Session(engine) as session:
        studies = list_studies(session)
        if settings.study:
            studies = [s for s in studies if s.name == settings.study]
        if len(studies) != 1 or get_study_key(session, studies[0]) is None:
            raise not_ready()
        return studies[0].name


class Intake:
    """The collector's intake for one study."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        study: str,
        clock: Callable[[], date] = today_in_tokyo,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.study_name = study
        self.clock = clock  # only the demo and tests pass another clock
        self._writer = threading.Lock() if settings.is_sqlite else None
        try:
            self.hash_key = code_hash_key(settings, study)
        except KeyMissingError as exc:  # no codes issued yet
            raise not_ready() from exc
        self.forms = load_forms()
        with Session(engine) as session:
            if check_frozen(session, self.forms):
                # A frozen form changed on disk: refuse to collect rather than ask questions
                # the codes were not issued for (`survey forms check` names the change).
                log.error("a frozen form version changed; run `survey forms check`")
                raise not_ready()

    def _study(self, session: Session) -> Study:
        return session.exec(select(Study).where(Study.name == self.study_name)).one()

    def web_forms(self, session: Session) -> dict[str, Form]:
        """The form each web-enabled cohort answers, by form id."""
        study = self._study(session)
        out = {}
        for cohort in effective_settings(study)["web_cohorts"]:
            form = form_for_cohort(session, study, cohort, self.forms)
            if form is not None:
                out[form.id] = form
        return out

    def study_info(self) -> dict[str, Any]:
        """What ``GET /api/study`` answers: the key to seal to and the forms' padded sizes."""
        with Session(self.engine) as session:
            key = get_study_key(session, self._study(session))
            if key is None:
                raise not_ready()
            forms = self.web_forms(session)
        return {
            "study": self.study_name,
            "public_key": base64.b64encode(key.public_key).decode(),
            "fingerprint": key.fingerprint,
            "forms": {
                f.id: {"version": f.version, "cohort": f.cohort, "padded_size": f.padded_size}
                for f in forms.values()
            },
        }

    def web_form(self, form_id: str, version: int) -> Form:
        with Session(self.engine) as session:
            form = self.web_forms(session).get(form_id)
        if form is None or form.version != version:
            raise UnknownForm("この調査票はありません。", "No such web form.")
        return form

    def page_settings(self) -> dict[str, Any]:
        """Study settings the public pages show: title and crisis lines."""
        with Session(self.engine) as session:
            values = effective_settings(self._study(session))
        return {k: values[k] for k in ("title", "title_en", "crisis_lines")}

    def _hash(self, code: str) -> bytes:
        try:
            return code_hash(self.hash_key, normalize(code))
        except CodeFormatError as exc:
            raise _unknown() from exc

    def _lookup(self, session: Session, code: str) -> tuple[Study, AccessCode, Form]:
        study = self._study(session)
        row = session.exec(
            select(AccessCode).where(
                AccessCode.hash == self._hash(code), AccessCode.study_id == study.id
            )
        ).first()
        if row is None:
            raise _unknown()
        if row.cohort not in effective_settings(study)["web_cohorts"]:
            raise _paper()
        form = form_for_cohort(session, study, row.cohort, self.forms)
        if form is None:
            raise _paper()
        return study, row, form

    def check(self, code: str) -> CodeInfo:
        """What ``POST /api/codes/check`` answers: the cohort and form of a usable code."""
        with Session(self.engine) as session:
            _study, row, form = self._lookup(session, code)
            if row.used:
                raise _used()
            return CodeInfo(self.study_name, row.cohort, form)

    def submit(self, code: str, sealed_b64: str) -> str:
        """Store one sealed answer and consume its code; returns the new record's id."""
        try:
            sealed = base64.b64decode(sealed_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Malformed("送信データが壊れています。", "sealed is not standard base64.") from exc
        # One writer at a time within this process: SQLite would serialise the writers anyway,
        # but through its busy handler's sleeps (up to 100 ms each), which under load costs far
        # more than waiting here. The wait is bounded like SQLite's own: past the busy timeout
        # the request gets 503 rather than queueing behind every other one.
        timeout = self.settings.busy_timeout_ms / 1000
        if self._writer is not None and not self._writer.acquire(timeout=timeout):
            raise busy()
        try:
            with self.engine.connect() as raw:
                conn = raw.execution_options(sqlite_begin="IMMEDIATE")
                with conn.begin(), Session(bind=conn) as session:
                    record = self._store(session, code, sealed)
                return record
        except OperationalError as exc:
            raise busy() from exc
        finally:
            if self._writer is not None:
                self._writer.release()

    def _store(self, session: Session, code: str, sealed: bytes) -> str:
        study, row, form = self._lookup(session, code)
        if len(sealed) != form.padded_size + SEAL_OVERHEAD:
            # Every answer of a form has exactly this length: anything else is not ours.
            raise Malformed("送信データの長さが違います。", "sealed has the wrong length.")
        consumed = session.execute(
            update(AccessCode)
            .where(col(AccessCode.hash) == row.hash, col(AccessCode.used).is_(False))
            .values(used=True)
        )
        if consumed.rowcount != 1:  # type: ignore[attr-defined]
            raise _used()
        assert study.id is not None
        record = SealedResponse(
            id=uuid.uuid4().hex,
            study_id=study.id,
            cohort=row.cohort,
            form_id=form.id,
            version=form.version,
            day=self.clock(),
            sealed=sealed,
            sealed_hash=hashlib.sha256(sealed).digest(),
        )
        session.add(record)
        try:
            session.flush()
        except IntegrityError as exc:
            raise Duplicate(
                "同じ回答がすでに届いています。", "These sealed bytes are already stored."
            ) from exc
        return record.id
