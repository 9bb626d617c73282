"""Staff accounts: password rules and hashing, password-wrapped signing keys, reset, lockout."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from survey import accounts, staff_keys
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
        key = staff_keys.active_key(session, user)
        encoded = user.password_hash.split("$")[4]  # libsodium: unpadded base64 of the salt
        login_salt = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        assert len(key.salt) == len(login_salt) == 16
        assert key.salt != login_salt
        assert not key.confirmed and key.wrapped is not None  # every key waits for a manager
        seed = staff_keys.unwrap_signing_key(key, PASSWORD)
        verify_signature(key.public_key, b"certificate", sign(seed, b"certificate"))
        with pytest.raises(staff_keys.SigningKeyError):
            staff_keys.unwrap_signing_key(key, "wrong password entirely")


def test_own_password_change_rewraps_the_same_key_and_keeps_its_confirmation(
    db: Database,
) -> None:
    with db.session() as session:
        bob = accounts.add_user(session, "bob", ["manager"], PASSWORD, must_change=False)
        staff_keys.bootstrap_key(session, bob, PASSWORD, T0)
        before = staff_keys.active_key(session, bob).public_key
        accounts.change_password(session, bob, PASSWORD, "a new and long passphrase")
        key = staff_keys.active_key(session, bob)
        assert key.public_key == before and key.confirmed
        staff_keys.unwrap_signing_key(key, "a new and long passphrase")
        with pytest.raises(staff_keys.SigningKeyError):
            staff_keys.unwrap_signing_key(key, PASSWORD)
        assert accounts.password_matches(bob, "a new and long passphrase")


def test_a_new_account_gets_a_fresh_unconfirmed_key_at_its_own_first_password_change(
    db: Database,
) -> None:
    with db.session() as session:
        admin = accounts.add_user(session, "ada", ["admin"], PASSWORD, must_change=False)
        user = accounts.add_user(session, "gus", ["officer"], "set by the admin 2026", by=admin)
        provisional = staff_keys.active_key(session, user)
        assert user.must_change and not provisional.confirmed  # the admin knows its password
        key = accounts.change_password(session, user, "set by the admin 2026", PASSWORD)
        assert key.public_key != provisional.public_key
        assert not key.confirmed  # the admin could have made this change: a manager decides
        assert not user.must_change and user.created_by == admin.id
        assert provisional.wrapped is None and not provisional.active


def test_the_admin_role_holds_no_signing_role(db: Database) -> None:
    for roles in (["admin", "manager"], ["admin", "officer"], ["officer", "admin", "analyst"]):
        with pytest.raises(UsageError, match="cannot be combined"):
            accounts.check_roles(roles)
    assert accounts.check_roles(["analyst", "admin"]) == ["admin", "analyst"]
    with db.session() as session:
        with pytest.raises(UsageError, match="cannot be combined"):
            accounts.add_user(session, "ada", ["admin", "manager"], PASSWORD)
        ada = accounts.add_user(session, "ada", ["admin"], PASSWORD, must_change=False)
        with pytest.raises(UsageError, match="cannot be combined"):
            accounts.set_roles(session, ada, ["admin", "officer"])
        assert ada.roles == ["admin"]


def confirmed_signing_keys(session: Session) -> list[str]:
    """Who holds a confirmed, usable key and a role that signs an erasure."""
    out = []
    for user in accounts.list_users(session):
        key = staff_keys.active_key(session, user)
        if key.confirmed and key.wrapped and set(user.roles) & set(accounts.SIGNING_ROLES):
            out.append(user.name)
    return out


def test_one_admin_cannot_bring_two_confirmed_signing_keys_into_being(db: Database) -> None:
    """The attack: an admin adds an officer and a manager, knows their initial passwords, does
    their "own" first password change, and would hold both keys an erasure needs."""
    ada_pw = {"olive": "initial for the officer 26", "mia": "initial for the manager 26"}
    mine = {"olive": "ada keeps this officer key", "mia": "ada keeps this manager key"}
    with db.session() as session:
        ada = accounts.add_user(session, "ada", ["admin"], PASSWORD, must_change=False)
        olive = accounts.add_user(session, "olive", ["officer"], ada_pw["olive"], by=ada)
        mia = accounts.add_user(session, "mia", ["manager"], ada_pw["mia"], by=ada)
        keys = {
            u.name: accounts.change_password(session, u, ada_pw[u.name], mine[u.name])
            for u in (olive, mia)
        }
        assert confirmed_signing_keys(session) == []  # was ["mia", "olive"] before
        # Ada's manager cannot confirm Ada's officer: her own key is unconfirmed...
        with pytest.raises(UsageError, match="own key must be confirmed"):
            staff_keys.confirm_key(session, keys["olive"], mia, T0)
        # ...and Ada cannot confirm either: no admin is a manager, not even by a role change.
        with pytest.raises(UsageError, match="Only a manager"):
            staff_keys.confirm_key(session, keys["mia"], ada, T0)
        with pytest.raises(UsageError, match="cannot be combined"):
            accounts.set_roles(session, ada, ["admin", "manager"])
        # An honest installation: its first manager's key confirmed at the key ceremony.
        nora = accounts.add_user(session, "nora", ["manager"], PASSWORD, must_change=False)
        staff_keys.bootstrap_key(session, nora, PASSWORD, T0)
        # The ceremony cannot be used again to vouch for Ada's manager.
        with pytest.raises(UsageError, match="key ceremony has been held"):
            staff_keys.bootstrap_key(session, mia, mine["mia"], T0)
        # Ada drops her admin role to confirm as a manager: she created both accounts.
        accounts.set_roles(session, ada, ["manager"])
        staff_keys.active_key(session, ada).confirmed = True  # even were her own key confirmed
        for name in ("olive", "mia"):
            with pytest.raises(UsageError, match="created the account"):
                staff_keys.confirm_key(session, keys[name], ada, T0)
        assert confirmed_signing_keys(session) == ["ada", "nora"]  # nobody of Ada's making
        # Only an honest manager, who meets Olive and Mia in person, confirms their keys.


def test_a_reset_key_needs_a_confirmed_manager_other_than_the_resetter_and_the_creator(
    db: Database,
) -> None:
    with db.session() as session:
        ada = accounts.add_user(session, "ada", ["admin"], PASSWORD, must_change=False)
        dave = accounts.add_user(session, "dave", ["manager"], PASSWORD, must_change=False)
        staff_keys.bootstrap_key(session, dave, PASSWORD, T0)
        carol = accounts.add_user(session, "carol", ["officer"], PASSWORD, must_change=False)
        staff_keys.confirm_key(session, staff_keys.active_key(session, carol), dave, T0)
        eve = accounts.add_user(session, "eve", ["manager"], PASSWORD, by=dave)
        old = staff_keys.active_key(session, carol)
        reset = accounts.reset_password(session, carol, "reset by the admin 2026", ada)
        assert reset.public_key != old.public_key and not reset.confirmed
        assert carol.reset_by == ada.id
        with pytest.raises(UsageError, match="choose their own password"):
            staff_keys.confirm_key(session, reset, dave, T0)  # still the admin's password
        new = accounts.change_password(session, carol, "reset by the admin 2026", PASSWORD)
        assert new.public_key != reset.public_key and not new.confirmed
        keys = session.exec(select(StaffKey).where(StaffKey.user_id == carol.id)).all()
        retired = [k for k in keys if not k.active]
        assert {k.public_key for k in retired} == {old.public_key, reset.public_key}
        assert all(k.wrapped is None for k in retired)  # nothing left to open
        with pytest.raises(UsageError, match="Only a manager"):
            staff_keys.confirm_key(session, new, carol, T0)
        with pytest.raises(UsageError, match="own key"):
            staff_keys.confirm_key(session, staff_keys.active_key(session, dave), dave, T0)
        # Eve, created by Dave: a manager whose key nobody has confirmed yet.
        accounts.change_password(session, eve, PASSWORD, "the new manager own words")
        with pytest.raises(UsageError, match="must be confirmed before"):
            staff_keys.confirm_key(session, new, eve, T0)
        with pytest.raises(UsageError, match="created the account"):
            staff_keys.confirm_key(session, staff_keys.active_key(session, eve), dave, T0)
        # Dave reset Carol's password again: now he may not confirm her key either.
        accounts.reset_password(session, carol, "reset by dave 2026 x", dave)
        again = accounts.change_password(
            session, carol, "reset by dave 2026 x", "her third passphrase 2026"
        )
        with pytest.raises(UsageError, match="reset its password"):
            staff_keys.confirm_key(session, again, dave, T0)
        assert not carol.must_change and carol.reset_by == dave.id


def test_the_key_ceremony_is_once_and_needs_the_holders_password(db: Database) -> None:
    with db.session() as session:
        olive = accounts.add_user(session, "olive", ["officer"], PASSWORD, must_change=False)
        with pytest.raises(UsageError, match="first manager"):
            staff_keys.bootstrap_key(session, olive, PASSWORD, T0)
        mia = accounts.add_user(session, "mia", ["manager"], "set for the manager by os")
        with pytest.raises(UsageError, match="provisional"):
            staff_keys.bootstrap_key(session, mia, "set for the manager by os", T0)
        accounts.change_password(session, mia, "set for the manager by os", PASSWORD)
        with pytest.raises(staff_keys.SigningKeyError):
            staff_keys.bootstrap_key(session, mia, "not her password at all", T0)
        key = staff_keys.bootstrap_key(session, mia, PASSWORD, T0)
        assert key.confirmed and key.bootstrap and key.confirmed_by is None
        assert key.confirmed_at == T0
        staff_keys.confirm_key(session, staff_keys.active_key(session, olive), mia, T0)
        # Mia's password is reset: no confirmed manager is left, yet the ceremony is spent.
        accounts.reset_password(session, mia, "a reset for the manager 26")
        accounts.change_password(
            session, mia, "a reset for the manager 26", "her next passphrase 77"
        )
        assert not staff_keys.confirmed_manager_exists(session)
        with pytest.raises(UsageError, match="has been held"):
            staff_keys.bootstrap_key(session, mia, "her next passphrase 77", T0)
        exported = {(e["user"], e["fingerprint"]): e for e in staff_keys.key_records(session)}
        olive_key = exported[("olive", staff_keys.active_key(session, olive).fingerprint)]
        assert olive_key["confirmed"] and olive_key["confirmed_by"] == "mia"
        assert olive_key["confirmed_at"] == T0.isoformat() and not olive_key["bootstrap"]
        ceremony = exported[("mia", key.fingerprint)]
        assert ceremony["bootstrap"] and ceremony["confirmed_by"] is None
        assert not ceremony["active"]  # retired at the reset, kept for old signatures


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


def test_the_keys_export_carries_roles_and_which_keys_are_attested(db: Database) -> None:
    """What an erasure certificate's verifier trusts: a key confirmed under the rules. A
    confirmed flag set by the account's creator (not through confirm_key) is not attested."""
    with db.session() as session:
        mia = accounts.add_user(session, "mia", ["manager"], PASSWORD, must_change=False)
        staff_keys.bootstrap_key(session, mia, PASSWORD, T0)
        olive = accounts.add_user(session, "olive", ["officer"], PASSWORD, must_change=False)
        staff_keys.confirm_key(session, staff_keys.active_key(session, olive), mia, T0)
        kai = accounts.add_user(session, "kai", ["officer"], PASSWORD, by=mia, must_change=False)
        forged = staff_keys.active_key(session, kai)
        forged.confirmed, forged.confirmed_by = True, mia.id  # mia created kai's account
        session.add(forged)
        accounts.add_user(session, "nick", ["manager"], PASSWORD, must_change=False)
        records = {r["user"]: r for r in staff_keys.key_records(session)}
    assert {k: (r["attested"], r["roles"]) for k, r in records.items()} == {
        "mia": (True, ["manager"]),
        "olive": (True, ["officer"]),
        "kai": (False, ["officer"]),
        "nick": (False, ["manager"]),
    }
    old_fields = {
        "user", "roles", "public_key", "fingerprint", "active", "confirmed", "confirmed_by",
        "confirmed_at", "bootstrap", "created_on",
    }  # fmt: skip
    assert all(old_fields <= set(r) for r in records.values())
