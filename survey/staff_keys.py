"""Staff signing keys: each wrapped under its holder's password, confirmed by another person.

Every user has an Ed25519 key whose private half is wrapped (secretbox) under a key derived
from their password with its own random salt. A key may sign an erasure (DESIGN.md invariant
7) only once confirmed, and no one person can confirm a key they might hold a copy of:

- the admin role holds neither officer nor manager (survey.accounts.check_roles);
- a key is confirmed by a manager whose own key is confirmed and who is neither its holder,
  nor whoever created the account, nor whoever last reset its password: each of those could
  have done the "own" first password change that made the key;
- the installation's first manager key is confirmed once, at the two-person key ceremony
  (``survey users confirm-key --bootstrap``), while no confirmed manager exists.

What software cannot stop (whoever creates accounts can invent people, e.g. two managers who
confirm each other) is met on paper: each person signs a key sheet (survey.key_sheet) that the
review board keeps, and erasure certificates are verified against those sheets offline.
"""

from __future__ import annotations

import base64
from datetime import date, datetime
from typing import Any

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

# The key-wrapping KDF runs at the login hash's limits (survey.accounts).
WRAP_LIMITS: KdfLimits = INTERACTIVE


class SigningKeyError(DataError):
    """A key that cannot be opened: retired, or not opened by the password given."""


def _wrap(seed: bytes, password: str) -> tuple[bytes, bytes]:
    salt = nacl.utils.random(nacl.pwhash.argon2id.SALTBYTES)
    kek = derive_kek(password, salt, WRAP_LIMITS.opslimit, WRAP_LIMITS.memlimit)
    return bytes(nacl.secret.SecretBox(kek).encrypt(seed)), salt


def new_key(user: StaffUser, password: str) -> StaffKey:
    """A fresh key for ``user``, wrapped under ``password``. Never confirmed when made: even
    the demo's keys wait for a manager (or the key ceremony)."""
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
        opslimit=WRAP_LIMITS.opslimit,
        memlimit=WRAP_LIMITS.memlimit,
        created_on=date.today(),
    )


def active_key(session: Session, user: StaffUser) -> StaffKey:
    key = session.exec(
        select(StaffKey).where(StaffKey.user_id == user.id, col(StaffKey.active).is_(True))
    ).one()
    return key


def retire(key: StaffKey) -> None:
    """The key can never sign again: its private half goes, its public half stays."""
    key.active, key.wrapped = False, None


def unwrap_signing_key(key: StaffKey, password: str) -> bytes:
    """The user's Ed25519 seed, opened with their password (to sign, e.g. an erasure)."""
    if key.wrapped is None:
        raise SigningKeyError("この鍵は廃止されています。", "This key has been retired.")
    kek = derive_kek(password, key.salt, key.opslimit, key.memlimit)
    try:
        return bytes(nacl.secret.SecretBox(kek).decrypt(key.wrapped))
    except nacl.exceptions.CryptoError as exc:
        raise SigningKeyError(
            "パスワードで署名鍵を開けません。", "The password does not open the signing key."
        ) from exc


def rewrap(key: StaffKey, old: str, new: str) -> None:
    """Wrap the same key under a new password (the holder's own change: it stays confirmed)."""
    key.wrapped, key.salt = _wrap(unwrap_signing_key(key, old), new)


# --- confirmation --------------------------------------------------------------------------


def may_confirm_others(session: Session, manager: StaffUser) -> bool:
    """A manager (never also an admin) whose own key is confirmed."""
    if "manager" not in manager.roles or "admin" in manager.roles or manager.disabled:
        return False
    return not manager.must_change and active_key(session, manager).confirmed


def confirm_refusal(session: Session, key: StaffKey, manager: StaffUser) -> UsageError | None:
    """Why ``manager`` may not confirm ``key`` (None: they may)."""
    owner = session.get(StaffUser, key.user_id)
    if "manager" not in manager.roles:
        return UsageError("鍵の確認は責任者が行います。", "Only a manager confirms a key.")
    if "admin" in manager.roles:
        # An account from before the roles were kept apart: it could have made the key itself.
        return UsageError(
            "管理者を兼ねる責任者は鍵を確認できません（役割を分けてください）。",
            "A manager who is also an admin cannot confirm keys: separate the roles.",
        )
    if owner is None or not key.active:
        return UsageError("その鍵は使われていません。", "That key is not in use.")
    if owner.id == manager.id:
        return UsageError("自分の鍵は確認できません。", "A manager cannot confirm their own key.")
    if key.confirmed:
        return UsageError("この鍵は確認済みです。", "This key is confirmed already.")
    if owner.must_change:
        return UsageError(
            "本人がパスワードを変更してから確認してください（いまの鍵は仮のものです）。",
            "The user must choose their own password first: the current key is provisional.",
        )
    if manager.id in (owner.created_by, owner.reset_by):
        # They knew the password the user started from, so they could have done the user's
        # "own" first change and hold this very key.
        return UsageError(
            "アカウントを作成した人・パスワードを再設定した人は、その鍵を確認できません。"
            "別の責任者が確認してください。",
            "Whoever created the account or reset its password cannot confirm its key: "
            "another manager must.",
        )
    if not may_confirm_others(session, manager):
        return UsageError(
            "先に自分の鍵を別の責任者に確認してもらってください。",
            "A manager's own key must be confirmed before they confirm others.",
        )
    return None


def confirm_key(session: Session, key: StaffKey, manager: StaffUser, now: datetime) -> None:
    refusal = confirm_refusal(session, key, manager)
    if refusal is not None:
        raise refusal
    key.confirmed = True
    key.confirmed_by = manager.id
    key.confirmed_at = now
    session.add(key)
    session.flush()


def attested(session: Session, key: StaffKey) -> bool:
    """Whether ``key`` stands confirmed under the rules: by the key ceremony (the first
    manager's own key), or by a manager who is neither its holder nor the account's creator
    or last resetter. Checked again where a key signs, not only when it was confirmed: a
    flag set in the database by other means does not make a key acceptable."""
    owner = session.get(StaffUser, key.user_id)
    if not key.confirmed or owner is None:
        return False
    if key.bootstrap:
        return "manager" in owner.roles
    confirmer = session.get(StaffUser, key.confirmed_by) if key.confirmed_by else None
    return (
        confirmer is not None
        and "manager" in confirmer.roles
        and confirmer.id not in (owner.id, owner.created_by, owner.reset_by)
    )


def confirmed_manager_exists(session: Session) -> bool:
    managers = session.exec(select(StaffUser).where(col(StaffUser.disabled).is_(False))).all()
    return any(may_confirm_others(session, m) for m in managers)


def bootstrap_refusal(session: Session, user: StaffUser) -> UsageError | None:
    """Why ``user``'s key may not be confirmed by the key ceremony (None: it may)."""
    if "manager" not in user.roles or "admin" in user.roles or user.disabled:
        return UsageError(
            "鍵の確認式で確認するのは、最初の責任者（管理者を兼ねない）の鍵です。",
            "The key ceremony confirms the first manager's key (a manager who is not an admin).",
        )
    if user.must_change:
        return UsageError(
            "本人がパスワードを変更してから確認してください（いまの鍵は仮のものです）。",
            "The user must choose their own password first: the current key is provisional.",
        )
    # Once per installation: were it allowed again whenever no confirmed manager is left (a
    # reset of the only one, say), one admin could reopen it at will.
    held = session.exec(select(StaffKey).where(col(StaffKey.bootstrap).is_(True))).first()
    if held is not None or confirmed_manager_exists(session):
        return UsageError(
            "鍵の確認式はすでに行われています。鍵は確認済みの責任者が確認します。",
            "The key ceremony has been held: a confirmed manager confirms keys now.",
        )
    return None


def bootstrap_key(session: Session, user: StaffUser, password: str, now: datetime) -> StaffKey:
    """The key ceremony: the first manager's own key, confirmed once for the installation.

    The holder's password must open the key (they hold it); the witness and the signed key
    sheet are the other half, outside the software (deploy/README.md).
    """
    refusal = bootstrap_refusal(session, user)
    if refusal is not None:
        raise refusal
    key = active_key(session, user)
    if verify_key_of(unwrap_signing_key(key, password)) != key.public_key:
        raise SigningKeyError("署名鍵が壊れています。", "The signing key is damaged.")
    key.confirmed, key.bootstrap, key.confirmed_at = True, True, now
    session.add(key)
    session.flush()
    return key


def pending(session: Session) -> list[tuple[StaffUser, StaffKey]]:
    """Active keys awaiting confirmation, provisional ones (password set by another) aside."""
    rows = session.exec(
        select(StaffUser, StaffKey)
        .join(StaffKey, col(StaffKey.user_id) == col(StaffUser.id))
        .where(col(StaffKey.active).is_(True), col(StaffKey.confirmed).is_(False))
        .where(col(StaffUser.must_change).is_(False), col(StaffUser.disabled).is_(False))
        .order_by(col(StaffUser.name))
    ).all()
    return [(u, k) for u, k in rows]


def key_records(session: Session) -> list[dict[str, Any]]:
    """Every staff key ever made, public halves only, with who confirmed it and when: for
    verifying signatures offline."""
    users = {u.id: u for u in session.exec(select(StaffUser)).all()}
    keys = session.exec(select(StaffKey).order_by(col(StaffKey.id))).all()

    def name(user_id: int | None) -> str | None:
        user = users.get(user_id)
        return user.name if user is not None else None

    return [
        {
            "user": name(k.user_id),
            "roles": users[k.user_id].roles if k.user_id in users else [],
            "public_key": base64.b64encode(k.public_key).decode(),
            "fingerprint": k.fingerprint,
            "active": k.active,
            "confirmed": k.confirmed,
            # Confirmed under the rules (see attested): what a certificate's verifier trusts.
            "attested": attested(session, k),
            "confirmed_by": name(k.confirmed_by),
            "confirmed_at": k.confirmed_at.isoformat() if k.confirmed_at else None,
            "bootstrap": k.bootstrap,
            "created_on": k.created_on.isoformat(),
        }
        for k in keys
    ]
