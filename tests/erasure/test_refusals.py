"""Every refusal of the issue: a clear Japanese and English message, and nothing deleted."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from survey import accounts, audit
from survey.erasure import requests
from survey.models import ErasureSignature, RosterUnit, StaffKey, StaffUser
from survey.roster import roster_key_path
from survey.staff_keys import SigningKeyError, active_key
from tests.erasure.conftest import MANAGER, OFFICER, Erasable
from tests.web.office_helpers import PASSWORD, make_staff

NEW = "a brand new password 2026"


def nothing_erased(e: Erasable) -> None:
    with Session(e.db.engine) as session:
        assert session.exec(select(func.count()).select_from(RosterUnit)).one() == 130
    assert roster_key_path(e.settings, "default").exists()


def refused(result, ja: str, en: str) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert ja in result.stderr and en in result.stderr, result.stderr


def test_one_signature_is_not_enough(erasable: Erasable) -> None:
    request_id = erasable.request()
    assert erasable.sign(OFFICER, request_id).exit_code == 0
    result = erasable.execute(request_id, erasable.tmp / "c.json")
    refused(result, "2人の署名が必要です", "Two signatures are needed")
    nothing_erased(erasable)


def test_the_same_person_cannot_sign_twice(erasable: Erasable) -> None:
    request_id = erasable.request()
    assert erasable.sign(OFFICER, request_id).exit_code == 0
    refused(erasable.sign(OFFICER, request_id), "同じ人が2度署名", "cannot sign twice")


def test_the_manager_signs_after_the_officer(erasable: Erasable) -> None:
    request_id = erasable.request()
    refused(erasable.sign(MANAGER, request_id), "先に担当者が署名", "The officer signs first")


def test_one_person_holding_both_roles_cannot_sign(erasable: Erasable) -> None:
    make_staff(erasable.db, bo=["officer", "manager"])
    from tests.erasure.conftest import confirm

    confirm(erasable.db, "bo", MANAGER)
    request_id = erasable.request()
    refused(erasable.sign("bo", request_id), "両方の役割を持つ人", "holding both")


def test_a_signer_without_a_signing_role(erasable: Erasable) -> None:
    make_staff(erasable.db, ann=["analyst"])
    request_id = erasable.request()
    refused(erasable.sign("ann", request_id), "担当者と責任者です", "Only an officer or a manager")


def test_an_unconfirmed_key_cannot_sign(erasable: Erasable) -> None:
    make_staff(erasable.db, nick=["manager"])
    request_id = erasable.request()
    assert erasable.sign(OFFICER, request_id).exit_code == 0
    refused(erasable.sign("nick", request_id), "確認されていません", "not confirmed")


def test_a_key_confirmed_by_the_accounts_creator_cannot_sign(erasable: Erasable) -> None:
    """The confirmation rules are checked where a key signs, not only when it was confirmed:
    a flag set in the database by the account's creator does not count."""
    with erasable.db.session() as session:
        creator = accounts.require_user(session, "max")
        user = accounts.add_user(
            session, "kai", ["manager"], PASSWORD, by=creator, must_change=False
        )
        key = active_key(session, user)
        key.confirmed, key.confirmed_by = True, creator.id
        session.add(key)
    request_id = erasable.request()
    assert erasable.sign(OFFICER, request_id).exit_code == 0
    refused(erasable.sign("kai", request_id), "確認されていません", "not confirmed")


def test_a_provisional_key_cannot_sign(erasable: Erasable) -> None:
    with erasable.db.session() as session:
        user = accounts.require_user(session, MANAGER)
        user.must_change = True
        session.add(user)
        refusal = requests.signer_refusal(session, user, "manager")
    assert refusal is not None and "仮のもの" in refusal.ja and "provisional" in refusal.en


def test_a_disabled_signer_stops_the_execution(erasable: Erasable) -> None:
    request_id = erasable.signed()
    assert erasable.run("users", "disable", MANAGER).exit_code == 0
    refused(erasable.execute(request_id, erasable.tmp / "c.json"), "無効です", "disabled")
    nothing_erased(erasable)


def test_a_wrong_password_signs_nothing(erasable: Erasable) -> None:
    request_id = erasable.request()
    result = erasable.as_user(
        OFFICER, "erasure", "sign", request_id, "--yes", password="wrong " * 3
    )
    refused(result, "パスワードが違います", "Wrong user name or password")
    with erasable.db.session() as session:  # the key does not open with another password
        row = requests.get_request(session, request_id)
        user = accounts.require_user(session, OFFICER)
        with pytest.raises(SigningKeyError):
            requests.sign_request(
                session, erasable.settings, row, user, "not the password 2026", "t", audit.now_utc()
            )
        assert not requests.signatures(session, row)


def test_a_signature_over_an_older_inventory(erasable: Erasable) -> None:
    request_id = erasable.signed()
    more = erasable.tmp / "print" / "postcards.pdf"
    assert erasable.run("postcards", "--out", str(more)).exit_code == 0  # a new tracked file
    result = erasable.execute(request_id, erasable.tmp / "c.json")
    refused(result, "対象が変わりました", "has changed since it was made")
    nothing_erased(erasable)
    assert more.exists()


def test_a_changed_file_changes_the_inventory(erasable: Erasable) -> None:
    request_id = erasable.request()
    (erasable.tmp / "print" / "vendor.csv").write_text("changed", encoding="utf-8")
    refused(erasable.sign(OFFICER, request_id), "対象が変わりました", "has changed")


def test_a_forged_signature(erasable: Erasable) -> None:
    request_id = erasable.signed()
    with erasable.db.session() as session:
        session.execute(
            update(ErasureSignature)
            .where(ErasureSignature.role == "manager")  # type: ignore[arg-type]
            .values(signature=bytes(64))
        )
    refused(erasable.execute(request_id, erasable.tmp / "c.json"), "偽造または改ざん", "forged")
    nothing_erased(erasable)


def test_an_altered_inventory_in_the_database(erasable: Erasable) -> None:
    request_id = erasable.signed()
    with erasable.db.session() as session:
        row = requests.get_request(session, request_id)
        row.inventory = {**row.inventory, "files": []}  # hide the files from the erasure
        session.add(row)
    refused(erasable.execute(request_id, erasable.tmp / "c.json"), "改ざんされています", "altered")
    nothing_erased(erasable)


def test_a_signers_key_replaced_after_signing(erasable: Erasable) -> None:
    request_id = erasable.signed()
    with erasable.db.session() as session:
        user = session.exec(select(StaffUser).where(StaffUser.name == OFFICER)).one()
        accounts.reset_password(session, user, NEW)
        user.must_change = False
        session.add(user)
        key = session.exec(
            select(StaffKey).where(StaffKey.user_id == user.id, StaffKey.active)
        ).one()
        key.confirmed, key.confirmed_by = True, accounts.require_user(session, MANAGER).id
        session.add(key)
    result = erasable.execute(request_id, erasable.tmp / "c.json", user=OFFICER)
    assert result.exit_code == 1  # its password changed: the old one no longer logs in
    result = erasable.as_user(
        OFFICER, "erasure", "execute", request_id, "--out", str(erasable.tmp / "c.json"),
        password=NEW,
    )  # fmt: skip
    refused(result, "もう使われていません", "no longer their active key")
    nothing_erased(erasable)


def test_executing_twice(erasable: Erasable) -> None:
    request_id = erasable.signed()
    assert erasable.execute(request_id, erasable.tmp / "c.json").exit_code == 0
    result = erasable.execute(request_id, erasable.tmp / "c2.json")
    refused(result, "2度は実施できません", "cannot be executed twice")
    assert not (erasable.tmp / "c2.json").exists()


def test_only_an_officer_executes_and_only_a_manager_confirms(erasable: Erasable) -> None:
    request_id = erasable.signed()
    refused(erasable.execute(request_id, erasable.tmp / "c.json", user="max"), "担当者", "officer")
    nothing_erased(erasable)
    out = erasable.tmp / "c2.json"
    result = erasable.as_user(MANAGER, "erasure", "confirm", request_id, "--out", str(out))
    refused(result, "まだ実施されていません", "not been executed")
    assert erasable.execute(request_id, erasable.tmp / "c.json").exit_code == 0
    result = erasable.as_user(OFFICER, "erasure", "confirm", request_id, "--out", str(out))
    refused(result, "責任者", "manager")
    assert not Path(out).exists()


def test_postgresql_needs_the_owner_to_rewrite_the_tables(
    erasable: Erasable, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VACUUM FULL needs the tables' owner: without SURVEY_OWNER_DATABASE_URL PostgreSQL is
    refused before anything is erased; SQLite needs no owner."""
    erasable.env.pop("SURVEY_OWNER_DATABASE_URL", None)
    monkeypatch.delenv("SURVEY_OWNER_DATABASE_URL", raising=False)
    request_id = erasable.signed()
    result = erasable.execute(request_id, erasable.tmp / "c.json")
    if erasable.settings.is_sqlite:
        assert result.exit_code == 0, result.stderr
        return
    assert result.exit_code == 2 and "SURVEY_OWNER_DATABASE_URL" in result.stderr
    nothing_erased(erasable)
