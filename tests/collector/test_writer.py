"""Group commit: several answers in one transaction, each refused or stored on its own, none
answered before the commit, none stored when the commit fails."""

from __future__ import annotations

import hashlib
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from survey.collector.intake import (
    CodeUsed,
    Duplicate,
    Intake,
    IntakeError,
    Malformed,
    PaperOnly,
    UnknownCode,
    decode_sealed,
)
from survey.collector.models import CollectorCode, CollectorResponse
from survey.collector.writer import Outcome, Pending, Writer, store
from tests.conftest import Issued
from tests.helpers import STUDY_PUBLIC_KEY, seal


def pending(code: str, sealed_b64: str) -> Pending:
    return Pending(code, decode_sealed(sealed_b64), lambda _outcome: None)


def stored_and_used(issued: Issued) -> tuple[int, int]:
    with Session(issued.db.engine) as session:
        answers = len(session.exec(select(CollectorResponse.id)).all())
        used = sum(1 for c in session.exec(select(CollectorCode)).all() if c.used)
    return answers, used


def body(intake: Intake, code: str) -> str:
    return seal(STUDY_PUBLIC_KEY, intake.check(code).form, {"sex": 1})


def test_a_code_twice_in_one_batch_is_stored_once(intake: Intake, issued: Issued) -> None:
    first, second = issued.codes["general"][:2]
    batch = [
        pending(first, body(intake, first)),
        pending(first.lower(), body(intake, first)),  # the same code, typed otherwise
        pending(second, body(intake, second)),
    ]
    outcomes = store(intake, None, batch)
    assert isinstance(outcomes[0], str) and isinstance(outcomes[2], str)
    assert isinstance(outcomes[1], CodeUsed)
    assert stored_and_used(issued) == (2, 2)


def test_a_refused_answer_undoes_only_its_own_statements(intake: Intake, issued: Issued) -> None:
    """A replay consumed its code before its insert failed: the savepoint gives the code back,
    and the answers before and after it are stored."""
    first, replayed, last = issued.codes["general"][:3]
    sealed = body(intake, first)
    form = intake.check(first).form
    wrong_length = seal(STUDY_PUBLIC_KEY, form, {})[:-8]  # six bytes short
    batch = [
        pending(first, sealed),
        pending(replayed, sealed),  # the same sealed bytes again
        pending("0000-0000-0000-0", sealed),
        pending(issued.codes["junior_high"][0], sealed),
        pending(last, wrong_length),
        pending(last, body(intake, last)),
    ]
    kinds = [type(o) for o in store(intake, None, batch)]
    assert kinds == [str, Duplicate, UnknownCode, PaperOnly, Malformed, str]
    assert stored_and_used(issued) == (2, 2)
    assert intake.check(replayed).cohort == "general"  # still usable


def _trigger(intake: Intake, sealed_b64: str, whole_transaction: bool) -> list[str]:
    """DDL for a trigger failing the insert of these sealed bytes (or, ``whole_transaction``,
    the transaction that holds it), on the database the test runs on."""
    digest = hashlib.sha256(decode_sealed(sealed_b64)).hexdigest()
    if intake.settings.is_sqlite:
        action = "ROLLBACK" if whole_transaction else "ABORT"
        return [
            "CREATE TRIGGER boom BEFORE INSERT ON collector_response "
            f"WHEN NEW.sealed_hash = X'{digest}' BEGIN SELECT RAISE({action}, 'boom'); END"
        ]
    # PostgreSQL: an error in a statement is undone by the savepoint; a deferred constraint
    # trigger fails the COMMIT itself.
    when = "DEFERRABLE INITIALLY DEFERRED" if whole_transaction else ""
    kind = "CONSTRAINT TRIGGER" if whole_transaction else "TRIGGER"
    timing = "AFTER" if whole_transaction else "BEFORE"
    return [
        "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF NEW.sealed_hash = '\\x{digest}'::bytea THEN RAISE EXCEPTION 'boom'; END IF; "
        "RETURN NEW; END $$",
        f"CREATE {kind} boom {timing} INSERT ON collector_response {when} "
        "FOR EACH ROW EXECUTE FUNCTION boom()",
    ]


def test_a_failing_statement_of_one_answer_spares_the_others(
    intake: Intake, issued: Issued
) -> None:
    first, failing, last = issued.codes["general"][:3]
    doomed = body(intake, failing)
    with issued.db.engine.begin() as conn:
        for ddl in _trigger(intake, doomed, whole_transaction=False):
            conn.execute(text(ddl))
    batch = [
        pending(first, body(intake, first)),
        pending(failing, doomed),
        pending(last, body(intake, last)),
    ]
    outcomes = store(intake, None, batch)
    assert isinstance(outcomes[0], str) and isinstance(outcomes[2], str)
    assert isinstance(outcomes[1], IntakeError)
    assert stored_and_used(issued) == (2, 2)
    assert intake.check(failing).cohort == "general"


def test_a_failed_commit_stores_nothing_and_everyone_hears_503(
    intake: Intake, issued: Issued
) -> None:
    codes = issued.codes["general"][:3]
    bodies = [body(intake, c) for c in codes]
    with issued.db.engine.begin() as conn:
        for ddl in _trigger(intake, bodies[1], whole_transaction=True):
            conn.execute(text(ddl))
    with pytest.raises(DBAPIError):
        store(intake, None, [pending(c, b) for c, b in zip(codes, bodies, strict=True)])
    assert stored_and_used(issued) == (0, 0)
    # Through the writer: its one thread takes what waits, so the first submission is held
    # until all three are queued (its outcome is delivered only after theirs are decided).
    writer = Writer(lambda: (intake, None), timeout=60)
    heard: list[Outcome] = []
    done = threading.Semaphore(0)

    def deliver(outcome: Outcome) -> None:
        heard.append(outcome)
        done.release()

    for code, sealed in zip(codes, bodies, strict=True):
        writer.enqueue(Pending(code, decode_sealed(sealed), deliver))
    for _ in codes:
        done.acquire()
    # Whatever the batches were, the one holding the failing answer stored nothing, and
    # nobody heard of a record that is not there.
    answers, used = stored_and_used(issued)
    assert sum(isinstance(o, str) for o in heard) == answers == used
    assert sum(isinstance(o, IntakeError) and o.status == 503 for o in heard) == 3 - answers
