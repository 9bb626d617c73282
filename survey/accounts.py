"""Staff accounts: roles, passwords, lockout, and each member's own signing key.

Passwords are hashed with Argon2id (libsodium's ``crypto_pwhash_str`` at its INTERACTIVE
limits, 2 passes and 64 MiB: above OWASP's floor of 2 passes and 19 MiB), must have at least
``MIN_PASSWORD`` characters, and are refused when among the 30,000 most common passwords
(zxcvbn's list) or when they contain the user name. Every user gets an Ed25519 signing key
whose private half is wrapped with a key derived from the password under its own random
salt; a password change re-wraps it, an admin reset cannot recover it (a new key is made,
the old public key kept, and the new one needs a manager's confirmation to sign erasures).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import cache

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils
from sqlalchemy import delete
from sqlmodel import Session, col, select

from survey.crypto import (
    INTERACTIVE,
    KdfLimits,
    derive_kek,
    new_signing_seed,
    signing_fingerprint,
    verify_key_of,
)
from survey.errors import DataError, UsageError
from survey.models import StaffKey, StaffSession, StaffUser

ROLES: dict[str, str] = {
    "officer": "担当者",
    "manager": "責任者",
    "analyst": "分析担当",
    "admin": "管理者",
}
MIN_PASSWORD = 12
MAX_FAILED = 5
LOCKOUT = timedelta(minutes=15)
NAME_RE = re.compile(r"[a-z][a-z0-9._-]{1,31}")
# Hashing parameters for login passwords (and the key-wrapping KDF): see the module docstring.
PASSWORD_LIMITS: KdfLimits = INTERACTIVE


class AccountError(DataError):
    """A refused account operation (unknown user, wrong password, locked, disabled)."""


class LoginFailed(AccountError):
    def __init__(self) -> None:
        # One message for a wrong name and a wrong password: do not reveal which.
        super().__init__("ユーザー名またはパスワードが違います。", "Wrong user name or password.")


class Locked(AccountError):
    def __init__(self, until: datetime, new: bool = False) -> None:
        super().__init__(
            f"ログインの失敗が続いたため、{until:%H:%M}（UTC）までロックされています。",
            f"Too many failed logins: locked until {until:%H:%M} UTC.",
        )
        self.until = until
        self.new = new  # this very failure locked the account (audit it once)


@cache
def _common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

    return frozenset(FREQUENCY_LISTS["passwords"])


def check_name(name: str) -> None:
    if not NAME_RE.fullmatch(name):
        raise UsageError(
            "ユーザー名は英小文字で始まる2〜32文字（a-z 0-9 . _ -）です。",
            "A user name is 2-32 characters of a-z, 0-9, '.', '_', '-', starting with a letter.",
        )


def check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise UsageError(
            f"役割は {', '.join(ROLES)} から選んでください。",
            f"Roles are one or more of {', '.join(ROLES)}.",
        )
    return sorted(set(roles))


def check_password(password: str, name: str) -> None:
    from zxcvbn import zxcvbn  # type: ignore[import-untyped]

    text = unicodedata.normalize("NFKC", password)
    if len(text) < MIN_PASSWORD:
        raise UsageError(
            f"パスワードは{MIN_PASSWORD}文字以上にしてください。",
            f"A password has at least {MIN_PASSWORD} characters.",
        )
    lowered = text.lower()
    # The common-password list, and zxcvbn's estimate for the rest: long but guessable
    # passwords ("123456789012", "passwordpassword") are refused too.
    if (
        lowered in _common_passwords()
        or name.lower() in lowered
        or zxcvbn(text, user_inputs=[name])["score"] < 3
    ):
        raise UsageError(
            "推測されやすいパスワード（よく使われるもの、ユーザー名を含むもの、単純な並び）は"
            "使えません。",
            "This password is too easy to guess (common, contains the user name, or a simple "
            "pattern).",
        )


def _normalized(password: str) -> bytes:
    return unicodedata.normalize("NFKC", password).encode()


def hash_password(password: str) -> str:
    return nacl.pwhash.argon2id.str(
        _normalized(password),
        opslimit=PASSWORD_LIMITS.opslimit,
        memlimit=PASSWORD_LIMITS.memlimit,
    ).decode()


def password_matches(user: StaffUser, password: str) -> bool:
    try:
        return bool(nacl.pwhash.verify(user.password_hash.encode(), _normalized(password)))
    except nacl.exceptions.InvalidkeyError:
        return False


# --- signing keys ----------------------------------------------------------------------


def _wrap(seed: bytes, password: str) -> tuple[bytes, bytes]:
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    kek = derive_kek(password, salt, PASSWORD_LIMITS.opslimit, PASSWORD_LIMITS.memlimit)
    return bytes(nacl.secret.SecretBox(kek).encrypt(seed)), salt


def new_key(user: StaffUser, password: str, confirmed: bool) -> StaffKey:
    seed = new_signing_seed()
    wrapped, salt = _wrap(seed, password)
    public = verify_key_of(seed)
    assert user.id is not None
    return StaffKey(
        user_id=user.id,
        public_key=public,
        fingerprint=signing_fingerprint(public),
        wrapped=wrapped,
        salt=salt,
        opslimit=PASSWORD_LIMITS.opslimit,
        memlimit=PASSWORD_LIMITS.memlimit,
        confirmed=confirmed,
        created_on=date.today(),
    )


def active_key(session: Session, user: StaffUser) -> StaffKey:
    key = session.exec(
        select(StaffKey).where(StaffKey.user_id == user.id, col(StaffKey.active).is_(True))
    ).one()
    return key


def unwrap_signing_key(key: StaffKey, password: str) -> bytes:
    """The user's Ed25519 seed, opened with their password (to sign, e.g. an erasure)."""
    if key.wrapped is None:
        raise AccountError("この鍵は廃止されています。", "This key has been retired.")
    kek = derive_kek(password, key.salt, key.opslimit, key.memlimit)
    try:
        return bytes(nacl.secret.SecretBox(kek).decrypt(key.wrapped))
    except nacl.exceptions.CryptoError as exc:
        raise LoginFailed() from exc


# --- accounts --------------------------------------------------------------------------


def get_user(session: Session, name: str) -> StaffUser | None:
    return session.exec(select(StaffUser).where(StaffUser.name == name)).first()


def require_user(session: Session, name: str) -> StaffUser:
    user = get_user(session, name)
    if user is None:
        raise UsageError(f"ユーザー {name} はいません。", f"No user named {name!r}.")
    return user


def add_user(
    session: Session,
    name: str,
    roles: list[str],
    password: str,
    by: StaffUser | None = None,
    must_change: bool = True,
) -> StaffUser:
    """A new account. Its first key is provisional: whoever chose the password could keep a
    copy of it, so it cannot sign, and the user's first own password change (forced at the
    first login) replaces it with a fresh key. ``must_change=False`` only for the demo."""
    check_name(name)
    roles = check_roles(roles)
    check_password(password, name)
    if get_user(session, name) is not None:
        raise UsageError(f"ユーザー {name} はすでにいます。", f"User {name!r} already exists.")
    user = StaffUser(
        name=name,
        roles=roles,
        password_hash=hash_password(password),
        must_change=must_change,
        password_set_by=by.id if by is not None else None,
        created_on=date.today(),
    )
    session.add(user)
    session.flush()
    session.add(new_key(user, password, confirmed=not must_change))
    session.flush()
    return user


def set_roles(session: Session, user: StaffUser, roles: list[str]) -> None:
    user.roles = check_roles(roles)
    session.add(user)
    session.flush()


def set_disabled(session: Session, user: StaffUser, disabled: bool) -> None:
    user.disabled = disabled
    session.add(user)
    session.flush()


def change_password(session: Session, user: StaffUser, old: str, new: str) -> StaffKey:
    """The user's own change. Normally the signing key is re-wrapped and survives; the first
    change after an admin set the password (creation, reset) makes a fresh key instead, since
    the admin could have kept the old one. After a reset that key awaits a manager."""
    if not password_matches(user, old):
        raise LoginFailed()
    check_password(new, user.name)
    if new == old:
        raise UsageError("新しいパスワードを選んでください。", "Choose a new password.")
    key = active_key(session, user)
    if user.must_change:
        key.active, key.wrapped = False, None
        session.add(key)
        session.flush()
        key = new_key(user, new, confirmed=not user.reset_pending)
        user.must_change = False
    else:
        seed = unwrap_signing_key(key, old)
        key.wrapped, key.salt = _wrap(seed, new)
    user.password_hash = hash_password(new)
    session.add_all([key, user])
    session.flush()
    return key


def reset_password(
    session: Session, user: StaffUser, new: str, by: StaffUser | None = None
) -> StaffKey:
    """An admin's reset: the old private key cannot be opened, so a new one is made.

    The old public key stays (certificates it signed remain verifiable). The user must choose
    their own password at the next login, which makes yet another key; that one may not sign
    an erasure until a manager other than the one who reset it has confirmed its fingerprint.
    The user's sessions end.
    """
    check_password(new, user.name)
    old = active_key(session, user)
    old.active = False
    old.wrapped = None
    user.password_hash = hash_password(new)
    user.failed_logins = 0
    user.locked_until = None
    user.must_change = True
    user.reset_pending = True
    user.password_set_by = by.id if by is not None else None
    end_sessions(session, user)
    key = new_key(user, new, confirmed=False)
    session.add_all([old, user, key])
    session.flush()
    return key


def confirm_key(session: Session, key: StaffKey, manager: StaffUser) -> None:
    if "manager" not in manager.roles:
        raise UsageError("鍵の確認は責任者が行います。", "Only a manager confirms a key.")
    if key.user_id == manager.id:
        raise UsageError("自分の鍵は確認できません。", "A manager cannot confirm their own key.")
    owner = session.get(StaffUser, key.user_id)
    if owner is not None and owner.password_set_by == manager.id:
        raise UsageError(
            "パスワードを設定した本人は、その鍵を確認できません。別の責任者が確認してください。",
            "Whoever set the user's password cannot confirm their key: another manager must.",
        )
    if owner is not None and owner.must_change:
        raise UsageError(
            "本人がパスワードを変更してから確認してください（いまの鍵は仮のものです）。",
            "The user must choose their own password first: the current key is provisional.",
        )
    if owner is not None:
        owner.reset_pending = False
        session.add(owner)
    key.confirmed = True
    key.confirmed_by = manager.id
    session.add(key)
    session.flush()


def check_attempt(user: StaffUser | None, password: str) -> bool:
    """The Argon2id check, without touching the database (run it outside write locks).

    An unknown or disabled user costs the same as a real check: no timing tells them apart.
    """
    if user is None:
        hash_password(password)
        return False
    return password_matches(user, password) and not user.disabled


def record_attempt(session: Session, name: str, ok: bool, now: datetime) -> StaffUser:
    """Apply a checked attempt (counters, lockout) in the caller's write transaction; the
    user, or LoginFailed / Locked (commit those too, so failures count)."""
    user = session.exec(select(StaffUser).where(StaffUser.name == name).with_for_update()).first()
    if user is None:
        raise LoginFailed()
    if user.locked_until is not None and user.locked_until > now:
        raise Locked(user.locked_until)
    if not ok or user.disabled:
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
            session.add(user)
            session.flush()
            raise Locked(user.locked_until, new=True)
        session.add(user)
        session.flush()
        raise LoginFailed()
    user.failed_logins = 0
    user.locked_until = None
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, name: str, password: str, now: datetime) -> StaffUser:
    """Check and record a login in one go (the command line); see check_attempt."""
    return record_attempt(session, name, check_attempt(get_user(session, name), password), now)


def end_sessions(session: Session, user: StaffUser, keep: str | None = None) -> None:
    """End the user's office sessions (all, or all but ``keep``): after a reset or a change."""
    query = delete(StaffSession).where(col(StaffSession.user_id) == user.id)
    if keep is not None:
        query = query.where(col(StaffSession.id) != keep)
    session.execute(query)


def list_users(session: Session) -> list[StaffUser]:
    return list(session.exec(select(StaffUser).order_by(StaffUser.name)).all())


def public_keys(session: Session) -> list[dict[str, object]]:
    """Every staff public key ever made, for verifying signatures offline."""
    import base64

    users = {u.id: u.name for u in list_users(session)}
    keys = session.exec(select(StaffKey).order_by(col(StaffKey.id))).all()
    return [
        {
            "user": users.get(k.user_id),
            "public_key": base64.b64encode(k.public_key).decode(),
            "fingerprint": k.fingerprint,
            "active": k.active,
            "confirmed": k.confirmed,
            "created_on": k.created_on.isoformat(),
        }
        for k in keys
    ]
