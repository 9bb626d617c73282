"""Intake: code check, one-time consumption, fixed lengths, replays, concurrency, no metadata."""

from __future__ import annotations

import base64
import csv
import json
import re
import threading
from pathlib import Path

import nacl.bindings
import nacl.public
import pytest
from sqlmodel import Session, select

from survey.codes import display
from survey.db import Database
from survey.forms.loader import Form
from survey.ingest.intake import (
    CodeUsed,
    Duplicate,
    Intake,
    Malformed,
    PaperOnly,
    UnknownCode,
    today_in_tokyo,
)
from survey.models import AccessCode, SealedResponse, StudyKey
from survey.settings import load_settings

CANARY = "カナリア回答XYZZY"


@pytest.fixture
def issued(drawn, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A drawn study with codes issued; yields (intake, codes by cohort, public key, db)."""
    out = tmp_path / "codes.csv"
    assert drawn("codes", "--out", str(tmp_path / "slips.pdf"), "--csv", str(out)).exit_code == 0
    codes: dict[str, list[str]] = {}
    with out.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            codes.setdefault(row["cohort"], []).append(row["code"])
    db = Database(load_settings())
    with Session(db.engine) as session:
        public = session.exec(select(StudyKey)).one().public_key
    yield Intake(db.engine, load_settings(), "default"), codes, public, db
    db.dispose()


def seal(public: bytes, form: Form, answers: dict[str, object]) -> str:
    """What the browser does, done with PyNaCl: pad to the form's size, seal, base64."""
    payload = json.dumps(
        {
            "study": "default",
            "cohort": form.cohort,
            "form": form.id,
            "version": form.version,
            "answers": answers,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    padded = nacl.bindings.sodium_pad(payload, form.padded_size)
    sealed = nacl.public.SealedBox(nacl.public.PublicKey(public)).encrypt(padded)
    return base64.b64encode(bytes(sealed)).decode()


def test_check_answers_cohort_and_form(issued) -> None:  # type: ignore[no-untyped-def]
    intake, codes, _public, _db = issued
    info = intake.check(codes["general"][0].lower().replace("-", " "))
    assert (info.cohort, info.form.id, info.form.version) == ("general", "general", 1)
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


def test_submit_consumes_the_code_once(issued) -> None:  # type: ignore[no-untyped-def]
    intake, codes, public, db = issued
    code = codes["general"][0]
    form = intake.check(code).form
    record_id = intake.submit(code, seal(public, form, {"opinion": CANARY, "sex": 2}))
    assert re.fullmatch(r"[0-9a-f]{32}", record_id)
    with Session(db.engine) as session:
        stored = session.exec(select(SealedResponse)).one()
        assert stored.day == today_in_tokyo() and stored.cohort == "general"
        assert len(stored.sealed) == form.padded_size + 48
        assert sum(1 for c in session.exec(select(AccessCode)).all() if c.used) == 1
    with pytest.raises(CodeUsed):
        intake.check(code)
    with pytest.raises(CodeUsed):
        intake.submit(code, seal(public, form, {"sex": 1}))


def test_malformed_and_replayed_answers_leave_the_code_unused(issued) -> None:  # type: ignore[no-untyped-def]
    intake, codes, public, _db = issued
    first, second = codes["general"][:2]
    form = intake.check(first).form
    short = base64.b64encode(b"x" * (form.padded_size + 47)).decode()
    for bad in (short, "not base64!", base64.b64encode(b"x" * 10).decode().rstrip("=")):
        with pytest.raises(Malformed):
            intake.submit(first, bad)
    sealed = seal(public, form, {"sex": 1})
    intake.submit(first, sealed)
    with pytest.raises(Duplicate):
        intake.submit(second, sealed)  # the same sealed bytes again: a replay
    assert intake.check(second).cohort == "general"  # still usable


def test_fifty_simultaneous_submissions_of_one_code(issued) -> None:  # type: ignore[no-untyped-def]
    intake, codes, public, db = issued
    code = codes["high_school"][0]
    form = intake.check(code).form
    bodies = [seal(public, form, {"grade": 1}) for _ in range(50)]
    results: list[str] = []
    barrier = threading.Barrier(50)

    def go(body: str) -> None:
        barrier.wait()
        try:
            intake.submit(code, body)
            results.append("stored")
        except CodeUsed:
            results.append("used")
        except Exception as exc:
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=go, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["stored"] + ["used"] * 49
    with Session(db.engine) as session:
        assert len(session.exec(select(SealedResponse)).all()) == 1


def test_nothing_readable_or_identifying_is_stored(issued) -> None:  # type: ignore[no-untyped-def]
    intake, codes, public, _db = issued
    for code in codes["general"][:5]:
        form = intake.check(code).form
        intake.submit(code, seal(public, form, {"opinion": CANARY, "ideation_ever": 1}))
    settings = load_settings()
    raw = b"".join(p.read_bytes() for p in settings.data_dir.glob("survey.sqlite3*"))
    assert CANARY.encode() not in raw
    for code in codes["general"]:
        assert code.encode() not in raw and display(code).encode() not in raw
    # No time of day anywhere: the only time-like strings are dates.
    assert not re.search(rb"\d{2}:\d{2}:\d{2}", raw)
