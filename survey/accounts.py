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
from survey.models import StaffKey, StaffUser

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
    text = unicodedata.normalize("NFKC", password)
    if len(text) < MIN_PASSWORD:
        raise UsageError(
            f"パスワードは{MIN_PASSWORD}文字以上にしてください。",
            f"A password has at least {MIN_PASSWORD} characters.",
        )
    lowered = text.lower()
    if lowered in _common_passwords() or name.lower() in lowered:
        raise UsageError(
            "よく使われるパスワードや、ユーザー名を含むパスワードは使えません。",
            "This password is too common (or contains the user name).",
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


def add_user(session: Session, name: str, roles: list[str], password: str) -> StaffUser:
    check_name(name)
    roles = check_roles(roles)
    check_password(password, name)
    if get_user(session, name) is not None:
        raise UsageError(f"ユーザー {name} はすでにいます。", f"User {name!r} already exists.")
    user = StaffUser(
        name=name, roles=roles, password_hash=hash_password(password), created_on=date.today()
    )
    session.add(user)
    session.flush()
    # A key made at creation is confirmed by the act of creating the account.
    session.add(new_key(user, password, confirmed=True))
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


def change_password(session: Session, user: StaffUser, old: str, new: str) -> None:
    """The user's own change: the signing key is re-wrapped, so it survives."""
    if not password_matches(user, old):
        raise LoginFailed()
    check_password(new, user.name)
    key = active_key(session, user)
    seed = unwrap_signing_key(key, old)
    key.wrapped, key.salt = _wrap(seed, new)
    user.password_hash = hash_password(new)
    session.add_all([key, user])
    session.flush()


def reset_password(session: Session, user: StaffUser, new: str) -> StaffKey:
    """An admin's reset: the old private key cannot be opened, so a new one is made.

    The old public key stays (certificates it signed remain verifiable); the new key may not
    sign an erasure until a manager has confirmed its fingerprint.
    """
    check_password(new, user.name)
    old = active_key(session, user)
    old.active = False
    old.wrapped = None
    user.password_hash = hash_password(new)
    user.failed_logins = 0
    user.locked_until = None
    key = new_key(user, new, confirmed=False)
    session.add_all([old, user, key])
    session.flush()
    return key


def confirm_key(session: Session, key: StaffKey, manager: StaffUser) -> None:
    if "manager" not in manager.roles:
        raise UsageError("鍵の確認は責任者が行います。", "Only a manager confirms a key.")
    if key.user_id == manager.id:
        raise UsageError("自分の鍵は確認できません。", "A manager cannot confirm their own key.")
    key.confirmed = True
    key.confirmed_by = manager.id
    session.add(key)
    session.flush()


def authenticate(session: Session, name: str, password: str, now: datetime) -> StaffUser:
    """The user if name and password match; LoginFailed or Locked otherwise.

    The failure counter is updated in the caller's transaction (commit it on failure too).
    """
    user = get_user(session, name)
    if user is None:
        hash_password(password)  # same cost as a real check: no timing hint that it is unknown
        raise LoginFailed()
    if user.locked_until is not None and user.locked_until > now:
        raise Locked(user.locked_until)
    if user.disabled or not password_matches(user, password):
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
