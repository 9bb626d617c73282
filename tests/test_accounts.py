"""Staff accounts: password rules and hashing, password-wrapped signing keys, reset, lockout."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from survey import accounts
from survey.crypto import sign, verify_signature
from survey.db import Database
from survey.errors import UsageError
from survey.models import StaffKey

PASSWORD = "correct horse battery staple"  # noqa: S105  (a test account)
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


def common_long_password() -> str:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return next(p for p in FREQUENCY_LISTS["passwords"] if len(p) >= accounts.MIN_PASSWORD)


def test_password_rules() -> None:
    with pytest.raises(UsageError, match="at least"):
        accounts.check_password("short-pass", "alice")
    with pytest.raises(UsageError, match="common"):
        accounts.check_password(common_long_password(), "alice")
    with pytest.raises(UsageError, match="common"):
        accounts.check_password("alice-in-wonderland-99", "alice")
    accounts.check_password(PASSWORD, "alice")


def test_hash_is_argon2id_above_the_owasp_floor() -> None:
    digest = accounts.hash_password(PASSWORD)
    m = re.match(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", digest)
    assert m is not None
    memory_kib, passes = int(m.group(1)), int(m.group(2))
    assert memory_kib >= 19 * 1024 and passes >= 2  # OWASP: m=19 MiB, t=2, p=1 at least
    assert accounts.hash_password(PASSWORD) != digest  # salted


def test_signing_key_is_wrapped_under_its_own_salt(db: Database) -> None:
    with db.session() as session:
        user = accounts.add_user(session, "alice", ["officer"], PASSWORD)
        key = accounts.active_key(session, user)
        login_salt = user.password_hash.split("$")[4]
        assert key.salt.hex() not in user.password_hash
        assert key.salt != login_salt.encode()
        assert key.confirmed and key.wrapped is not None
        seed = accounts.unwrap_signing_key(key, PASSWORD)
        verify_signature(key.public_key, b"certificate", sign(seed, b"certificate"))
        with pytest.raises(accounts.LoginFailed):
            accounts.unwrap_signing_key(key, "wrong password entirely")


def test_own_password_change_rewraps_the_same_key(db: Database) -> None:
    with db.session() as session:
        user = accounts.add_user(session, "bob", ["manager"], PASSWORD)
        before = accounts.active_key(session, user).public_key
        accounts.change_password(session, user, PASSWORD, "a new and long passphrase")
        key = accounts.active_key(session, user)
        assert key.public_key == before and key.confirmed
        accounts.unwrap_signing_key(key, "a new and long passphrase")
        with pytest.raises(accounts.LoginFailed):
            accounts.unwrap_signing_key(key, PASSWORD)
        assert accounts.password_matches(user, "a new and long passphrase")


def test_admin_reset_makes_a_new_unconfirmed_key_and_keeps_the_old_public_key(
    db: Database,
) -> None:
    with db.session() as session:
        carol = accounts.add_user(session, "carol", ["officer"], PASSWORD)
        manager = accounts.add_user(session, "dave", ["manager"], PASSWORD)
        old = accounts.active_key(session, carol)
        new = accounts.reset_password(session, carol, "reset by the admin 2026")
        assert new.public_key != old.public_key and not new.confirmed
        keys = session.exec(select(StaffKey).where(StaffKey.user_id == carol.id)).all()
        retired = [k for k in keys if not k.active]
        assert [k.public_key for k in retired] == [old.public_key]
        assert retired[0].wrapped is None  # nothing left to open
        with pytest.raises(UsageError):
            accounts.confirm_key(session, new, carol)  # not a manager
        with pytest.raises(UsageError):
            accounts.confirm_key(session, accounts.active_key(session, manager), manager)
        accounts.confirm_key(session, new, manager)
        assert new.confirmed and new.confirmed_by == manager.id
        exported = accounts.public_keys(session)
        assert {e["fingerprint"] for e in exported} >= {old.fingerprint, new.fingerprint}


def test_five_failures_lock_for_fifteen_minutes(db: Database) -> None:
    with db.session() as session:
        accounts.add_user(session, "erin", ["analyst"], PASSWORD)
    for i in range(4):
        with pytest.raises(accounts.LoginFailed), db.session() as session:
            try:
                accounts.authenticate(session, "erin", "wrong", T0 + timedelta(seconds=i))
            finally:
                session.commit()
    with pytest.raises(accounts.Locked) as locked, db.session() as session:
        try:
            accounts.authenticate(session, "erin", "wrong", T0 + timedelta(seconds=5))
        finally:
            session.commit()
    assert locked.value.new
    with Session(db.engine) as session:
        with pytest.raises(accounts.Locked) as still:
            accounts.authenticate(session, "erin", PASSWORD, T0 + timedelta(minutes=14))
        assert not still.value.new
        user = accounts.authenticate(session, "erin", PASSWORD, T0 + timedelta(minutes=16))
        assert user.name == "erin" and user.failed_logins == 0


def test_unknown_and_disabled_users_fail_alike(db: Database) -> None:
    with db.session() as session:
        user = accounts.add_user(session, "frank", ["officer"], PASSWORD)
        accounts.set_disabled(session, user, True)
        for name in ("frank", "nobody"):
            with pytest.raises(accounts.LoginFailed) as info:
                accounts.authenticate(session, name, PASSWORD, T0)
            assert info.value.en == "Wrong user name or password."
