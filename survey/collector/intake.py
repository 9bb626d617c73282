"""Intake: check an access code, store a sealed answer, consume the code.

This module sees a code and sealed bytes, never a plaintext answer, and stores nothing about
the client. Answers are stored by the writer (:mod:`survey.collector.writer`): in a
transaction shared with the other answers waiting (group commit), each in a savepoint of its
own, the code is consumed with ``UPDATE … WHERE hash = :h AND NOT used`` (on SQLite inside
``BEGIN IMMEDIATE``, so the write lock is held before the code is read; on PostgreSQL the row
lock of the UPDATE decides), and the sealed bytes are inserted with a random id, the cohort,
form, version and the day in Asia/Tokyo. Of any number of simultaneous submissions of one
code, in any number of worker processes, exactly one succeeds; identical sealed bytes are
refused (a replay).
"""

from __future__ import annotations

import base64
import binascii
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, bindparam
from sqlmodel import Session, select

from survey import public
from survey.codes import CodeFormatError, code_hash_key, normalize
from survey.collector.models import CollectorCode, CollectorStudy
from survey.collector.writer import CODE_ROW, Writer
from survey.crypto import KeyMissingError, code_hash
from survey.errors import SurveyError
from survey.forms.loader import Form, load_forms
from survey.settings import Settings

TOKYO = ZoneInfo("Asia/Tokyo")
log = logging.getLogger("survey.collector")


class IntakeError(SurveyError):
    """A refusal with the HTTP status the public API answers with."""

    status = 400


class Malformed(IntakeError):
    status = 400


class PaperOnly(IntakeError):
    status = 403


class Closed(IntakeError):
    """Fieldwork is over (its end plus the grace days): nothing more is accepted."""

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
    """No study to collect for (none installed, several without SURVEY_STUDY, or a form
    changed since the codes were issued): 503."""

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


def closed() -> Closed:
    return Closed(
        "この調査の受付は終了しました。ご協力ありがとうございました。",
        "This survey has closed. Thank you for your help.",
    )


def unknown_code() -> UnknownCode:
    # One reply for every unknown code, whatever is wrong with it (typo, never issued).
    return UnknownCode("このアクセスコードは見つかりません。", "Unknown access code.")


def code_used() -> CodeUsed:
    return CodeUsed(
        "このアクセスコードはすでに使われています。", "This access code has already been used."
    )


def paper_only() -> PaperOnly:
    return PaperOnly(
        "この調査票は紙でご回答ください（Web回答の対象ではありません）。",
        "This cohort answers on paper only.",
    )


def today_in_tokyo() -> date:
    # Only the day is kept: a time of day could be matched against other records.
    return datetime.now(TOKYO).date()


def page_values(study: CollectorStudy | None) -> dict[str, Any]:
    """The public settings of an installed study (defaults for what the file did not carry)."""
    return {**public.defaults(), **(study.settings if study is not None else {})}


def last_day(values: dict[str, Any]) -> date | None:
    """The last day answers are accepted: fieldwork_end plus the grace days (None: open)."""
    end = values.get("fieldwork_end")
    if not end:
        return None
    return date.fromisoformat(end) + timedelta(days=int(values["fieldwork_grace_days"]))


def active_study(engine: Engine, settings: Settings) -> str:
    """The study this collector serves: ``SURVEY_STUDY``, else the one installed with codes.

    Studies without codes do not count, so installing a second, empty study (or creating
    one on the office side of a one-process installation) never takes the form offline.
    """
    with Session(engine) as session:
        if settings.study:
            found = session.get(CollectorStudy, settings.study)
            if found is None:
                raise not_ready()
            return found.name
        installed = session.exec(select(CollectorStudy.name).order_by(CollectorStudy.name)).all()
        # One index seek per installed study (usually one), whatever the number of codes.
        names = [
            name
            for name in installed
            if session.exec(
                select(CollectorCode.hash).where(CollectorCode.study == name).limit(1)
            ).first()
            is not None
        ]
    if len(names) != 1:
        if names:  # an operator's mistake, not a respondent's: say so in the server's log
            log.error("several studies are installed: set SURVEY_STUDY")
        raise not_ready()
    return names[0]


@dataclass(frozen=True, slots=True)
class Installed:
    """The installed study as one request sees it."""

    row: CollectorStudy
    values: dict[str, Any]  # its public settings
    forms: dict[str, Form]  # by cohort

    def web_forms(self) -> dict[str, Form]:
        """The form each web-enabled cohort answers, by form id."""
        cohorts = self.values["web_cohorts"]
        return {f.id: f for c, f in self.forms.items() if c in cohorts}


@dataclass(frozen=True, slots=True)
class CodeInfo:
    study: str
    cohort: str
    form: Form


# The statements of the hot path, built once: plain SQL through SQLAlchemy Core (the ORM's
# per-object bookkeeping cost more than the durable commit itself). The writes are in
# survey.collector.writer.
_STUDY = CollectorStudy.__table__  # type: ignore[attr-defined]
_REVISION = select(_STUDY.c.revision).where(_STUDY.c.name == bindparam("study"))
_REVISIONS = select(_STUDY.c.name, _STUDY.c.revision).order_by(_STUDY.c.name)


def installed_revisions(engine: Engine) -> tuple[tuple[str, int], ...]:
    """Every installed study with its revision (a change means: resolve the study again)."""
    with engine.connect() as conn:
        return tuple((str(n), int(r)) for n, r in conn.execute(_REVISIONS).all())


class Intake:
    """The collector's intake for one installed study.

    The installed study (settings, frozen forms) is read once and again only when its
    revision changes (every ``survey-collector import`` makes a new one), so a changed
    setting such as the fieldwork window applies at the next request, without a restart.
    """

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
        # One writer thread per intake stores the submissions in arrival order, several in
        # one commit (survey.collector.writer); across worker processes SQLite's lock and busy
        # timeout, or PostgreSQL's row locks, serialise.
        self.writer = Writer(lambda: (self, None), settings.busy_timeout_ms / 1000)
        try:
            self.hash_key = code_hash_key(settings, study)
        except KeyMissingError as exc:  # installed without its key file
            raise not_ready() from exc
        self.local = load_forms()
        self._reload = threading.Lock()
        self._state: tuple[int, Installed] | None = None
        self.current()  # refuse now, not at the first respondent

    def installed(self, session: Session) -> Installed:
        """The study as installed now, read from the database."""
        row = session.get(CollectorStudy, self.study_name)
        if row is None:
            raise not_ready()
        forms: dict[str, Form] = {}  # by cohort: the frozen version its codes open
        for frozen in sorted(row.forms, key=lambda f: int(f["version"])):
            form = self.local.get((frozen["form"], int(frozen["version"])))
            if form is None or form.sha256 != frozen["sha256"]:
                # A frozen form changed (or vanished) on disk: refuse to collect rather than
                # ask questions the codes were not issued for.
                log.error(
                    "form %s v%s differs from the one the codes were issued for",
                    frozen["form"],
                    frozen["version"],
                )
                raise not_ready()
            forms[str(frozen["cohort"])] = form
        return Installed(row, page_values(row), forms)

    def current(self, revision: int | None = None) -> Installed:
        """The installed study; read again only when its revision changed."""
        if revision is None:
            with self.engine.connect() as conn:
                revision = conn.execute(_REVISION, {"study": self.study_name}).scalar()
            if revision is None:
                raise not_ready()
        state = self._state
        if state is not None and state[0] == revision:
            return state[1]
        with self._reload, Session(self.engine) as session:
            installed = self.installed(session)
            self._state = (installed.row.revision, installed)
        return installed

    def is_closed(self, installed: Installed) -> bool:
        end = last_day(installed.values)
        return end is not None and self.clock() > end

    def study_info(self) -> dict[str, Any]:
        """What ``GET /api/study`` answers: the key to seal to and the forms' padded sizes."""
        installed = self.current()
        return {
            "study": self.study_name,
            "public_key": base64.b64encode(installed.row.public_key).decode(),
            "fingerprint": installed.row.fingerprint,
            "forms": {
                f.id: {"version": f.version, "cohort": f.cohort, "padded_size": f.padded_size}
                for f in installed.web_forms().values()
            },
        }

    def web_form(self, form_id: str, version: int) -> Form:
        form = self.current().web_forms().get(form_id)
        if form is None or form.version != version:
            raise UnknownForm("この調査票はありません。", "No such web form.")
        return form

    def code_digest(self, code: str) -> bytes:
        """The keyed hash a code is stored as (unknown: not a code at all)."""
        try:
            return code_hash(self.hash_key, normalize(code))
        except CodeFormatError as exc:
            raise unknown_code() from exc

    def _lookup(self, code: str, revision: int | None) -> tuple[bytes, str, bool, Form]:
        """(hash, cohort, used, form) of a code of a web cohort; the refusals otherwise."""
        installed = self.current(revision)
        if self.is_closed(installed):
            raise closed()
        digest = self.code_digest(code)
        with self.engine.connect() as conn:
            row = conn.execute(CODE_ROW, {"hash": digest, "study": self.study_name}).first()
        return (digest, *form_of_code(installed, row))

    def check(self, code: str, revision: int | None = None) -> CodeInfo:
        """What ``POST /api/codes/check`` answers: the cohort and form of a usable code."""
        _digest, cohort, used, form = self._lookup(code, revision)
        if used:
            raise code_used()
        return CodeInfo(self.study_name, cohort, form)

    def submit(self, code: str, sealed_b64: str) -> str:
        """Store one sealed answer and consume its code; returns the new record's id.

        Returns only once the answer's transaction is committed (durable)."""
        return self.writer.submit(code, decode_sealed(sealed_b64))


def form_of_code(installed: Installed, row: Sequence[Any] | None) -> tuple[str, bool, Form]:
    """(cohort, used, form) of a code's row (cohort, used); unknown or paper-only refused."""
    if row is None:
        raise unknown_code()
    cohort, used = str(row[0]), bool(row[1])
    form = installed.forms.get(cohort)
    if cohort not in installed.values["web_cohorts"] or form is None:
        raise paper_only()
    return cohort, used, form


def decode_sealed(sealed_b64: str) -> bytes:
    """The sealed bytes of a submission (its length is checked against its code's form)."""
    try:
        return base64.b64decode(sealed_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Malformed("送信データが壊れています。", "sealed is not standard base64.") from exc
