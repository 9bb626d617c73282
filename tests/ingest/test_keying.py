"""Paper keying: double entry, reconciliation, duplicates across channels, the edit log."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from survey.collector.intake import Intake
from survey.errors import DataError, UsageError
from survey.fieldwork import fieldwork
from survey.ingest import keying, receipts
from survey.ingest.keying import Sheet
from survey.models import AccessCode, EditLog, FreeText, PaperEntry, PaperReceipt, Response, Study
from tests.conftest import Issued
from tests.helpers import STUDY_PUBLIC_KEY, carry_to_office, seal

DAY = date(2026, 6, 3)


def logged(issued: Issued, cohort: str = "general", day: date = DAY, count: int = 1) -> list[str]:
    return receipts.log(issued.db.engine, issued.study, cohort, "B1", day, count).numbers


def key(issued: Issued, no: str, operator: str, code: str, **values: str) -> keying.Keyed:
    return keying.enter(
        issued.db.engine, issued.settings, issued.study, no, operator, Sheet(code, values)
    )


def responses(issued: Issued) -> list[Response]:
    with Session(issued.db.engine) as session:
        return list(session.exec(select(Response)).all())


def receipt_row(issued: Issued, no: str) -> PaperReceipt:
    with Session(issued.db.engine) as session:
        return session.exec(select(PaperReceipt).where(PaperReceipt.receipt_no == no)).one()


def test_two_officers_agree_and_the_sheet_joins_the_dataset(issued: Issued) -> None:
    (no,) = logged(issued)
    code = issued.codes["general"][0]
    first = key(issued, no, "alice", code, sex="2", k6_1="3", opinion="ｶﾞｯｺｳ")
    assert first.state == "logged" and first.pass_no == 1 and responses(issued) == []
    # The same typing with other spacing and width: the same answers.
    second = key(issued, no, "bob", code.lower(), sex=" 2", k6_1="３", opinion="ガッコウ")
    assert second.state == "accepted" and second.differences == []
    (response,) = responses(issued)
    assert response.channel == "paper" and response.cohort == "general"
    assert response.week == "2026-W23"  # the ISO week of arrival, never the day
    assert response.answers["sex"] == 2 and response.answers["k6_1"] == 3
    assert response.answers["opinion"] == 1  # free text only as answered
    assert response.answers["ideation_ever"] == -9  # left blank
    with Session(issued.db.engine) as session:
        assert session.exec(select(FreeText)).one().text == "ガッコウ"
        used = session.exec(select(AccessCode).where(AccessCode.used)).all()
        assert [c.channel for c in used] == ["paper"]
        entries = session.exec(select(PaperEntry)).all()
        # What was typed is kept, never the plaintext code.
        assert {e.values["k6_1"] for e in entries} == {"3", "３"}
        assert all(code not in repr(e.values) and e.code_hash for e in entries)
    with pytest.raises(DataError, match="done"):
        key(issued, no, "carol", code, sex="2")


def test_the_second_keying_needs_another_officer(issued: Issued) -> None:
    (no,) = logged(issued)
    key(issued, no, "alice", issued.codes["general"][0], sex="1")
    with pytest.raises(DataError, match="another officer"):
        key(issued, no, "alice", issued.codes["general"][0], sex="1")


def test_a_mistyped_code_is_refused_at_once_and_nothing_is_stored(issued: Issued) -> None:
    (no,) = logged(issued)
    code = issued.codes["general"][0]
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    with pytest.raises(UsageError, match="access code"):
        key(issued, no, "alice", wrong, sex="1")
    with Session(issued.db.engine) as session:
        assert session.exec(select(PaperEntry)).all() == []


def test_differences_are_reconciled_field_by_field(issued: Issued) -> None:
    (no,) = logged(issued)
    code, other = issued.codes["general"][:2]
    key(issued, no, "alice", code, sex="1", k6_1="2", k6_2="4")
    result = key(issued, no, "bob", other, sex="1", k6_1="3", k6_2="4")
    assert result.state == "reconcile" and result.differences == ["code", "k6_1"]
    assert responses(issued) == []
    _, a, b, fields = keying.pending(issued.db.engine, issued.study, no)
    assert fields == ["code", "k6_1"] and a.operator == "alice" and b.operator == "bob"
    with pytest.raises(UsageError, match="k6_1"):
        keying.reconcile(
            issued.db.engine, issued.settings, issued.study, no, "carol", {"code": code}
        )
    done = keying.reconcile(
        issued.db.engine, issued.settings, issued.study, no, "carol", {"code": code, "k6_1": "2"}
    )
    assert done.state == "accepted"
    (response,) = responses(issued)
    assert response.answers["k6_1"] == 2 and response.answers["k6_2"] == 4
    rates = {r["operator"]: r for r in keying.operator_rates(issued.db.engine, issued.study)}
    assert rates["alice"]["errors"] == 0 and rates["bob"]["errors"] == 2
    assert rates["bob"]["rate"] == pytest.approx(2 / rates["bob"]["fields"])


def test_a_code_used_on_the_web_sets_the_sheet_aside(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    code = issued.codes["general"][0]
    intake.submit(code, seal(STUDY_PUBLIC_KEY, intake.check(code).form, {"sex": 1}))
    carry_to_office(issued.db.engine, issued.settings, tmp_path / "b.json")
    (no,) = logged(issued)
    key(issued, no, "alice", code, sex="2")
    result = key(issued, no, "bob", code, sex="2")
    assert result.state == "duplicate" and result.flag == "used_on_web"
    assert responses(issued) == [] and receipt_row(issued, no).state == "duplicate"


def test_a_sheet_whose_code_the_web_uses_later_is_set_aside(
    intake: Intake, issued: Issued, tmp_path: Path
) -> None:
    code = issued.codes["general"][0]
    (no,) = logged(issued)
    key(issued, no, "alice", code, sex="2", opinion="秘密")
    assert key(issued, no, "bob", code, sex="2", opinion="秘密").state == "accepted"
    # The used flag never reached the collector: the same envelope also answered on the web.
    intake.submit(code, seal(STUDY_PUBLIC_KEY, intake.check(code).form, {"sex": 1}))
    carry_to_office(issued.db.engine, issued.settings, tmp_path / "b.json")
    row = receipt_row(issued, no)
    assert row.state == "duplicate" and row.flag == "used_on_web" and row.response_id is None
    with Session(issued.db.engine) as session:
        assert session.exec(select(Response)).all() == []  # counted once: the web answer's
        assert session.exec(select(FreeText)).all() == []


def test_between_two_sheets_the_earlier_received_wins(issued: Issued) -> None:
    code = issued.codes["general"][0]
    (early,) = logged(issued, day=date(2026, 6, 1))
    (late,) = logged(issued, day=date(2026, 6, 8))
    for no, sex in ((late, "1"), (early, "2")):  # the later envelope happens to be keyed first
        key(issued, no, "alice", code, sex=sex)
        key(issued, no, "bob", code, sex=sex)
    assert receipt_row(issued, early).state == "accepted"
    assert receipt_row(issued, late).state == "duplicate"
    assert receipt_row(issued, late).flag == "used_on_paper"
    (response,) = responses(issued)
    assert response.answers["sex"] == 2
    (third,) = logged(issued, day=date(2026, 6, 9))
    key(issued, third, "alice", code, sex="1")
    assert key(issued, third, "bob", code, sex="1").flag == "used_on_paper"
    assert len(responses(issued)) == 1


def test_skip_violations_are_keyed_as_written_and_edited_with_a_log(issued: Issued) -> None:
    (no,) = logged(issued)
    code = issued.codes["general"][0]
    sheet = {"ideation_ever": "2", "ideation_recent": "1", "k6_1": "13"}
    key(issued, no, "alice", code, **sheet)
    result = key(issued, no, "bob", code, **sheet)
    assert result.state == "accepted" and len(result.warnings) == 2
    (response,) = responses(issued)
    assert response.answers["ideation_recent"] == -1  # the skip logic hides it: the skip wins
    assert response.answers["k6_1"] == -8  # two marks on a single choice
    with Session(issued.db.engine) as session:
        log = {e.variable: e.value for e in session.exec(select(EditLog)).all()}
        assert log == {"ideation_recent": -1, "k6_1": -8}
        kept = {e.values["ideation_recent"] for e in session.exec(select(PaperEntry)).all()}
        assert kept == {"1"}  # the raw keyed value is kept


def test_a_sheet_without_a_readable_code_is_accepted_and_flagged(issued: Issued) -> None:
    (no,) = logged(issued)
    key(issued, no, "alice", "/", sex="/")
    result = key(issued, no, "bob", "", sex="/")
    assert result.state == "accepted" and result.flag == "no_code"
    assert responses(issued)[0].answers["sex"] == -6  # 判読不能


def test_single_keying_accepts_one_entry(issued: Issued, run) -> None:  # type: ignore[no-untyped-def]
    assert run("study", "set", "keying=single").exit_code == 0
    (no,) = logged(issued)
    result = key(issued, no, "alice", issued.codes["general"][0], sex="1 2")
    assert result.state == "accepted" and result.warnings  # the two marks are said
    assert responses(issued)[0].answers["sex"] == -8


def test_the_receipt_log_feeds_the_dashboard(issued: Issued) -> None:
    logged(issued, count=3)
    logged(issued, cohort="junior_high", count=2)
    engine, study = issued.db.engine, issued.study
    receipts.log(engine, study, "general", "B2", DAY, 1, receipts.BLANK)
    receipts.log(engine, study, "general", "B2", DAY, 2, receipts.UNDELIVERABLE, "宛先不明")
    receipts.log(engine, study, "junior_high", "B2", DAY, 1, receipts.UNDELIVERABLE, "対象外")
    with pytest.raises(UsageError):
        receipts.log(engine, study, "general", "B2", DAY, 1, receipts.UNDELIVERABLE)
    with Session(engine) as session:
        study_row = session.exec(select(Study)).one()
        rates = {r.cohort: r for r in fieldwork(session, study_row).rates}
        summary = receipts.summary(session, study_row)
    assert rates["general"].paper == 3 and rates["general"].undeliverable == 2
    assert rates["junior_high"].paper == 2 and rates["junior_high"].undeliverable == 1
    assert summary["general"] == {
        "received": 3, "blank": 1, "undeliverable": 2, "keyed": 0, "duplicate": 0, "waiting": 3,
    }  # fmt: skip
