"""Intake: code check, one-time consumption, fixed lengths, replays, concurrency, no metadata."""

from __future__ import annotations

import base64
import re
import threading
from dataclasses import replace
from datetime import date

import pytest
from sqlmodel import Session, select

from survey.codes import display
from survey.collector.intake import (
    Closed,
    CodeUsed,
    Duplicate,
    Intake,
    Malformed,
    NotReady,
    PaperOnly,
    UnknownCode,
    active_study,
    today_in_tokyo,
)
from survey.collector.models import CollectorCode, CollectorResponse, CollectorStudy
from tests.conftest import Issued
from tests.helpers import CANARY, STUDY_PUBLIC_KEY, open_sealed, seal

TIME_OF_DAY = re.compile(rb"\d{2}:\d{2}:\d{2}")


def test_check_answers_cohort_and_form(intake: Intake, issued: Issued) -> None:
    codes = issued.codes
    info = intake.check(codes["general"][0].lower().replace("-", " "))
    assert (info.cohort, info.form.id, info.form.version) == ("general", "general", 2)
    with pytest.raises(PaperOnly) as paper:
        intake.check(codes["junior_high"][0])
    assert paper.value.status == 403 and "紙" in paper.value.ja
    for unknown in (
        "0000-0000-0000-0",
        codes["general"][0][:-1] + ("0" if codes["general"][0][-1] != "0" else "1"),
        "junk",
    ):
        with pytest.raises(UnknownCode) as info404:
            intake.check(unknown)
        assert info404.value.status == 404


def test_submit_consumes_the_code_once(intake: Intake, issued: Issued) -> None:
    code = issued.codes["general"][0]
    form = intake.check(code).form
    record_id = intake.submit(code, seal(STUDY_PUBLIC_KEY, form, {"opinion": CANARY, "sex": 2}))
    assert re.fullmatch(r"[0-9a-f]{32}", record_id)
    with Session(issued.db.engine) as session:
        stored = session.exec(select(CollectorResponse)).one()
        assert stored.day == today_in_tokyo() and stored.cohort == "general"
        assert len(stored.sealed) == form.padded_size + 48
        assert open_sealed(stored.sealed, form.padded_size)["answers"]["opinion"] == CANARY
        assert sum(1 for c in session.exec(select(CollectorCode)).all() if c.used) == 1
    with pytest.raises(CodeUsed):
        intake.check(code)
    with pytest.raises(CodeUsed):
        intake.submit(code, seal(STUDY_PUBLIC_KEY, form, {"sex": 1}))


def test_malformed_and_replayed_answers_leave_the_code_unused(
    intake: Intake, issued: Issued
) -> None:
    first, second = issued.codes["general"][:2]
    form = intake.check(first).form
    short = base64.b64encode(b"x" * (form.padded_size + 47)).decode()
    for bad in (short, "not base64!", base64.b64encode(b"x" * 10).decode().rstrip("=")):
        with pytest.raises(Malformed):
            intake.submit(first, bad)
    sealed = seal(STUDY_PUBLIC_KEY, form, {"sex": 1})
    intake.submit(first, sealed)
    with pytest.raises(Duplicate):
        intake.submit(second, sealed)  # the same sealed bytes again: a replay
    assert intake.check(second).cohort == "general"  # still usable


def test_fifty_simultaneous_submissions_of_one_code(intake: Intake, issued: Issued) -> None:
    """Fifty intakes, as fifty worker processes would be (each its own in-process lock): only
    the database's one-time consumption decides."""
    code = issued.codes["high_school"][0]
    form = intake.check(code).form
    bodies = [seal(STUDY_PUBLIC_KEY, form, {"grade": 1}) for _ in range(50)]
    intakes = [Intake(issued.db.engine, issued.settings, "default") for _ in bodies]
    results: list[str] = []
    barrier = threading.Barrier(50)

    def go(body: str, mine: Intake) -> None:
        barrier.wait()
        try:
            mine.submit(code, body)
            results.append("stored")
        except CodeUsed:
            results.append("used")
        except Exception as exc:
            results.append(type(exc).__name__)

    threads = [
        threading.Thread(target=go, args=(b, i)) for b, i in zip(bodies, intakes, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["stored"] + ["used"] * 49
    with Session(issued.db.engine) as session:
        assert len(session.exec(select(CollectorResponse)).all()) == 1


def test_the_day_comes_from_the_clock_it_is_given(issued: Issued) -> None:
    intake = Intake(issued.db.engine, issued.settings, "default", clock=lambda: date(2026, 6, 3))
    code = issued.codes["general"][0]
    intake.submit(code, seal(STUDY_PUBLIC_KEY, intake.check(code).form, {}))
    with Session(issued.db.engine) as session:
        assert session.exec(select(CollectorResponse.day)).one() == date(2026, 6, 3)


def test_study_info_lists_only_web_forms(intake: Intake) -> None:
    info = intake.study_info()
    assert base64.b64decode(info["public_key"]) == STUDY_PUBLIC_KEY
    assert set(info["forms"]) == {"general", "high_school", "elementary_guardian"}
    assert info["forms"]["general"] == {"version": 2, "cohort": "general", "padded_size": 8192}


def test_a_study_not_installed_is_not_ready(drawn) -> None:  # type: ignore[no-untyped-def]
    from survey.db import Database
    from survey.settings import load_settings

    db = Database(load_settings())
    try:
        with pytest.raises(NotReady):
            Intake(db.engine, load_settings(), "default")
        with pytest.raises(NotReady):
            active_study(db.engine, load_settings())
    finally:
        db.dispose()


def database_bytes(issued: Issued) -> bytes:
    return b"".join(p.read_bytes() for p in issued.settings.data_dir.glob("survey.sqlite3*"))


@pytest.mark.sqlite_only  # the SQLite file itself
def test_nothing_readable_or_identifying_is_stored(intake: Intake, issued: Issued) -> None:
    # The office's audit log (same file in one-process mode) has staff actions' times; the
    # submissions must add no time of day of their own.
    times_before = set(TIME_OF_DAY.findall(database_bytes(issued)))
    for code in issued.codes["general"][:5]:
        form = intake.check(code).form
        intake.submit(code, seal(STUDY_PUBLIC_KEY, form, {"opinion": CANARY, "ideation_ever": 1}))
    raw = database_bytes(issued)
    assert CANARY.encode() not in raw
    for code in issued.codes["general"]:
        assert code.encode() not in raw and display(code).encode() not in raw
    assert set(TIME_OF_DAY.findall(raw)) <= times_before


def test_answers_are_refused_after_fieldwork_and_its_grace_days(  # type: ignore[no-untyped-def]
    issued: Issued, run
) -> None:
    """Reproduces the defect: answers were accepted after fieldwork_end, whatever the date."""
    assert run("study", "set", "fieldwork_end=2026-07-31").exit_code == 0  # carried at once
    day = [date(2026, 8, 14)]  # the last of the default 14 grace days
    intake = Intake(issued.db.engine, issued.settings, "default", clock=lambda: day[0])
    first, second = issued.codes["general"][:2]
    intake.submit(first, seal(STUDY_PUBLIC_KEY, intake.check(first).form, {}))
    day[0] = date(2026, 8, 15)
    with pytest.raises(Closed) as refused:
        intake.check(second)
    assert refused.value.status == 403 and "終了" in refused.value.ja
    with pytest.raises(Closed):
        intake.submit(second, seal(STUDY_PUBLIC_KEY, intake.current().forms["general"], {}))
    assert run("study", "set", "fieldwork_grace_days=0").exit_code == 0
    day[0] = date(2026, 8, 1)
    with pytest.raises(Closed):
        intake.check(second)
    day[0] = date(2026, 7, 31)
    assert intake.check(second).cohort == "general"


def test_a_new_study_never_takes_the_form_offline(  # type: ignore[no-untyped-def]
    issued: Issued, run, intake: Intake
) -> None:
    """Reproduces the defect: a second (empty) study in one-process mode gave 503 for every
    code. The collector serves the study installed with codes, or SURVEY_STUDY."""
    assert run("study", "create", "second", "--as-of", "2027-04-01").exit_code == 0
    assert active_study(issued.db.engine, issued.settings) == "default"
    assert intake.check(issued.codes["general"][0]).cohort == "general"
    # Another installed study with codes: ambiguous unless SURVEY_STUDY names one.
    with Session(issued.db.engine) as session:
        mine = session.get(CollectorStudy, "default")
        assert mine is not None
        session.add(
            CollectorStudy(
                name="second",
                public_key=mine.public_key,
                fingerprint=mine.fingerprint,
                settings={},
                forms=[],
                installed_on=date.today(),
            )
        )
        session.flush()
        session.add(CollectorCode(hash=bytes(32), study="second", cohort="general"))
        session.commit()
    with pytest.raises(NotReady):
        active_study(issued.db.engine, issued.settings)
    chosen = replace(issued.settings, study="default")
    assert active_study(issued.db.engine, chosen) == "default"
