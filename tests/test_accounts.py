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
    for guessable in (
        common_long_password(),
        "alice-in-wonderland-99",
        "123456789012",
        "aaaaaaaaaaaa",
        "passwordpassword",
    ):
        with pytest.raises(UsageError, match="easy to guess"):
            accounts.check_password(guessable, "alice")
    accounts.check_password(PASSWORD, "alice")


def test_hash_is_argon2id_above_the_owasp_floor() -> None:
    digest = accounts.hash_password(PASSWORD)
    m = re.match(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$", digest)
    assert m is not None
    memory_kib, passes = int(m.group(1)), int(m.group(2))
    assert memory_kib >= 19 * 1024 and passes >= 2  # OWASP: m=19 MiB, t=2, p=1 at least
    assert accounts.hash_password(PASSWORD) != digest  # salted


def test_signing_key_is_wrapped_under_its_own_salt(db: Database) -> None:
    import base64

    with db.session() as session:
        user = accounts.add_user(session, "alice", ["officer"], PASSWORD, must_change=False)
        key = accounts.active_key(session, user)
        encoded = user.password_hash.split("$")[4]  # libsodium: unpadded base64 of the salt
        login_salt = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        assert len(key.salt) == len(login_salt) == 16
        assert key.salt != login_salt
        assert key.confirmed and key.wrapped is not None
        seed = accounts.unwrap_signing_key(key, PASSWORD)
        verify_signature(key.public_key, b"certificate", sign(seed, b"certificate"))
        with pytest.raises(accounts.LoginFailed):
            accounts.unwrap_signing_key(key, "wrong password entirely")


def test_own_password_change_rewraps_the_same_key(db: Database) -> None:
    with db.session() as session:
        user = accounts.add_user(session, "bob", ["manager"], PASSWORD, must_change=False)
        before = accounts.active_key(session, user).public_key
        accounts.change_password(session, user, PASSWORD, "a new and long passphrase")
        key = accounts.active_key(session, user)
        assert key.public_key == before and key.confirmed
        accounts.unwrap_signing_key(key, "a new and long passphrase")
        with pytest.raises(accounts.LoginFailed):
            accounts.unwrap_signing_key(key, PASSWORD)
        assert accounts.password_matches(user, "a new and long passphrase")


def test_a_new_account_gets_a_fresh_key_at_its_own_first_password_change(db: Database) -> None:
    with db.session() as session:
        admin = accounts.add_user(session, "ada", ["admin"], PASSWORD, must_change=False)
        user = accounts.add_user(session, "gus", ["officer"], "set by the admin 2026", by=admin)
        provisional = accounts.active_key(session, user)
        assert user.must_change and not provisional.confirmed  # the admin knows its password
        key = accounts.change_password(session, user, "set by the admin 2026", PASSWORD)
        assert key.public_key != provisional.public_key and key.confirmed
        assert not user.must_change
        assert provisional.wrapped is None and not provisional.active


def test_admin_reset_makes_a_new_unconfirmed_key_and_keeps_the_old_public_key(
    db: Database,
) -> None:
    with db.session() as session:
        carol = accounts.add_user(session, "carol", ["officer"], PASSWORD, must_change=False)
        dave = accounts.add_user(session, "dave", ["manager"], PASSWORD, must_change=False)
        mona = accounts.add_user(session, "mona", ["admin", "manager"], PASSWORD, must_change=False)
        old = accounts.active_key(session, carol)
        reset = accounts.reset_password(session, carol, "reset by the admin 2026", mona)
        assert reset.public_key != old.public_key and not reset.confirmed
        with pytest.raises(UsageError, match="choose their own password"):
            accounts.confirm_key(session, reset, dave)  # still the admin's password
        new = accounts.change_password(session, carol, "reset by the admin 2026", PASSWORD)
        assert new.public_key != reset.public_key and not new.confirmed
        keys = session.exec(select(StaffKey).where(StaffKey.user_id == carol.id)).all()
        retired = [k for k in keys if not k.active]
        assert {k.public_key for k in retired} == {old.public_key, reset.public_key}
        assert all(k.wrapped is None for k in retired)  # nothing left to open
        with pytest.raises(UsageError):
            accounts.confirm_key(session, new, carol)  # not a manager
        with pytest.raises(UsageError):
            accounts.confirm_key(session, accounts.active_key(session, dave), dave)  # own key
        with pytest.raises(UsageError, match="set the user's password"):
            accounts.confirm_key(session, new, mona)  # the one who reset it
        accounts.confirm_key(session, new, dave)
        assert new.confirmed and new.confirmed_by == dave.id and not carol.reset_pending
        exported = accounts.public_keys(session)
        assert {e["fingerprint"] for e in exported} >= {old.fingerprint, new.fingerprint}


def test_five_failures_lock_for_fifteen_minutes(db: Database) -> None:
    with db.session() as session:
        accounts.add_user(session, "erin", ["analyst"], PASSWORD, must_change=False)
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
        user = accounts.add_user(session, "frank", ["officer"], PASSWORD, must_change=False)
        accounts.set_disabled(session, user, True)
        for name in ("frank", "nobody"):
            with pytest.raises(accounts.LoginFailed) as info:
                accounts.authenticate(session, name, PASSWORD, T0)
            assert info.value.en == "Wrong user name or password."
