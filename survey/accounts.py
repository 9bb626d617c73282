"""Staff accounts: roles, passwords, lockout; each member's signing key (survey.staff_keys).

Passwords are hashed with Argon2id (libsodium's ``crypto_pwhash_str`` at its INTERACTIVE
limits, 2 passes and 64 MiB: above OWASP's floor of 2 passes and 19 MiB), must have at least
``MIN_PASSWORD`` characters, and are refused when among the 30,000 most common passwords
(zxcvbn's list) or when they contain the user name. Every user gets an Ed25519 signing key
wrapped under their password; the user's own change re-wraps it, the first own change after
someone else chose the password (creation, reset) makes a fresh one, and no key signs before
a manager other than its holder, creator and resetter has confirmed it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import cache

import nacl.exceptions
import nacl.pwhash
from sqlalchemy import delete
from sqlmodel import Session, col, select

from survey.crypto import INTERACTIVE, KdfLimits
from survey.errors import DataError, UsageError
from survey.models import StaffKey, StaffSession, StaffUser
from survey.staff_keys import active_key, new_key, retire, rewrap

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
# Hashing parameters for login passwords: see the module docstring.
PASSWORD_LIMITS: KdfLimits = INTERACTIVE
# The roles that sign an erasure, one each (DESIGN.md invariant 7). An admin creates and
# resets accounts, so could do a new account's first login: holding a signing role as well,
# one person could bring both signing keys into being.
SIGNING_ROLES = ("officer", "manager")


class AccountError(DataError):
    """A refused account operation (unknown user, wrong password, locked, disabled)."""


class LoginFailed(AccountError):
    def __init__(self) -> None:
        # One message for a wrong name and a wrong password: do not reveal which.
        super().__init__("ユーザー名またはパスワードが違います。", "Wrong user name or password.")


class Locked(LoginFailed):
    """The account is locked. Said exactly as a wrong password (web and command line): any
    other answer would tell whoever tries a name that it exists, and that it is locked."""

    def __init__(self, until: datetime, new: bool = False) -> None:
        super().__init__()
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
    if "admin" in roles and any(r in SIGNING_ROLES for r in roles):
        raise UsageError(
            "管理者（admin）は担当者（officer）・責任者（manager）を兼ねられません。",
            "The admin role cannot be combined with officer or manager.",
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
    first login) replaces it with a fresh key, which then awaits a manager's confirmation.
    ``must_change=False`` (the demo, tests): the password is the user's own from the start;
    the key still awaits a manager."""
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
        created_by=by.id if by is not None else None,
        created_on=date.today(),
    )
    session.add(user)
    session.flush()
    session.add(new_key(user, password))
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
    """The user's own change. Normally the signing key is re-wrapped and survives (confirmed
    or not); the first change after someone else set the password (creation, reset) makes a
    fresh key instead, since they could have kept the old one. That key awaits a manager other
    than the account's creator and resetter: they could have made this change themselves."""
    if not password_matches(user, old):
        raise LoginFailed()
    check_password(new, user.name)
    if new == old:
        raise UsageError("新しいパスワードを選んでください。", "Choose a new password.")
    key = active_key(session, user)
    if user.must_change:
        retire(key)
        session.add(key)
        session.flush()
        key = new_key(user, new)
        user.must_change = False
    else:
        rewrap(key, old, new)
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
    retire(old)
    user.password_hash = hash_password(new)
    user.failed_logins = 0
    user.locked_until = None
    user.must_change = True
    user.reset_by = by.id if by is not None else None
    end_sessions(session, user)
    key = new_key(user, new)
    session.add_all([old, user, key])
    session.flush()
    return key


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
