"""Requesting and signing an erasure; who may sign, checked at every signature and again at
execution (DESIGN.md invariant 7).

A signer is an active user holding the role they sign for (officer or manager) and not both,
whose own password opens their active key, and that key is attested: confirmed by the key
ceremony or by a manager who is neither its holder nor the account's creator or resetter
(:func:`survey.staff_keys.attested`). The officer signs first, then a different person, a
manager. Each signature is over exactly the current inventory.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from survey import audit
from survey.crypto import SignatureError, sign, verify_key_of, verify_signature
from survey.erasure import inventory
from survey.erasure.signing import APPROVAL_ROLES, digest, message
from survey.errors import DataError, UsageError
from survey.models import ErasureRequest, ErasureSignature, StaffKey, StaffUser, Study
from survey.settings import Settings
from survey.staff_keys import active_key, attested, unwrap_signing_key


class ErasureRefused(DataError):
    """An erasure step that was refused; nothing was changed."""


def signing_role(user: StaffUser) -> str:
    """The one signing role ``user`` holds; refused for none or both."""
    held = [r for r in APPROVAL_ROLES if r in user.roles]
    if len(held) == 2:
        raise ErasureRefused(
            "担当者と責任者の両方の役割を持つ人は、消去に署名できません（役割を分けてください）。",
            "One person holding both the officer and the manager role cannot sign an erasure.",
        )
    if not held:
        raise ErasureRefused(
            "消去に署名できるのは担当者と責任者です。",
            "Only an officer or a manager signs an erasure.",
        )
    return held[0]


def signer_refusal(session: Session, user: StaffUser | None, role: str) -> ErasureRefused | None:
    """Why ``user`` may not sign (or execute, or confirm) as ``role`` now; None: they may."""
    if user is None:
        return ErasureRefused("署名者がいません。", "The signer's account does not exist.")
    if user.disabled:
        return ErasureRefused(
            f"{user.name} のアカウントは無効です。", f"{user.name}'s account is disabled."
        )
    if role not in user.roles:
        name = "担当者" if role == "officer" else "責任者"
        return ErasureRefused(
            f"{user.name} は{name}（{role}）ではありません。",
            f"{user.name} does not hold the {role} role.",
        )
    if all(r in user.roles for r in APPROVAL_ROLES) or "admin" in user.roles:
        return ErasureRefused(
            "担当者と責任者（または管理者）を兼ねる人は、消去に署名できません。",
            "One person holding both signing roles (or the admin role) cannot sign an erasure.",
        )
    if user.must_change:
        return ErasureRefused(
            f"{user.name} の署名鍵は仮のものです（本人がパスワードを変更していません）。",
            f"{user.name}'s signing key is provisional (their own password is not set yet).",
        )
    key = active_key(session, user)
    if key.wrapped is None or not attested(session, key):
        return ErasureRefused(
            f"{user.name} の署名鍵は確認されていません（本人・作成者・再設定者以外の責任者の確認が"
            "必要です）。",
            f"{user.name}'s signing key is not confirmed by a manager other than its holder, "
            "the account's creator and its resetter.",
        )
    return None


def require_signer(session: Session, user: StaffUser | None, role: str) -> StaffUser:
    refusal = signer_refusal(session, user, role)
    if refusal is not None:
        raise refusal
    assert user is not None
    return user


def open_key(session: Session, user: StaffUser, password: str) -> tuple[StaffKey, bytes]:
    """The user's active key and its seed, opened with their password (refused otherwise)."""
    key = active_key(session, user)
    seed = unwrap_signing_key(key, password)
    if verify_key_of(seed) != key.public_key:
        raise ErasureRefused("署名鍵が壊れています。", "The signing key is damaged.")
    return key, seed


def get_request(session: Session, request_id: str) -> ErasureRequest:
    row = session.get(ErasureRequest, request_id.strip().lower())
    if row is None:
        raise UsageError(
            f"消去の依頼 {request_id} はありません。", f"No erasure request {request_id!r}."
        )
    if digest(row.inventory) != row.inventory_sha256:
        raise ErasureRefused(
            "保存された消去対象の一覧が改ざんされています。",
            "The stored inventory does not match its digest: it was altered.",
        )
    return row


def study_of(session: Session, row: ErasureRequest) -> Study:
    study = session.get(Study, row.study_id)
    assert study is not None
    return study


def create(
    session: Session,
    settings: Settings,
    study: Study,
    scope: str,
    user: StaffUser,
    actor: str,
    now: datetime,
    vendor: dict[str, Any] | None = None,
) -> ErasureRequest:
    """A new request by an officer: audited first, then the inventory anchored to that entry."""
    inventory.check_scope(scope)
    if "officer" not in user.roles:
        raise ErasureRefused("消去を依頼するのは担当者です。", "An officer requests an erasure.")
    request_id = uuid.uuid4().hex
    detail: dict[str, Any] = {"request": request_id, "study": study.name, "scope": scope}
    if vendor is not None:
        detail["vendor_confirmation"] = vendor["sha256"]
    entry = audit.append(session, actor, "erasure.request", detail, lambda: now)
    doc = inventory.compute(
        session, settings, study, scope, request_id, f"{entry.seq}:{entry.hash}", vendor
    )
    assert study.id is not None and user.id is not None
    row = ErasureRequest(
        id=request_id,
        study_id=study.id,
        scope=scope,
        requested_by=user.id,
        requested_at=now,
        inventory=doc,
        inventory_sha256=digest(doc),
    )
    session.add(row)
    session.flush()
    return row


def check_current(session: Session, settings: Settings, row: ErasureRequest) -> None:
    """Refuse when what the request lists has changed since it was made."""
    doc = row.inventory
    now = inventory.compute(
        session,
        settings,
        study_of(session, row),
        row.scope,
        row.id,
        doc["anchor"],
        doc.get("vendor_confirmation"),
    )
    if digest(now) != row.inventory_sha256:
        raise ErasureRefused(
            "依頼のあとで消去の対象が変わりました（署名は古い一覧に対するものです）。"
            "新しく依頼し直してください。何も消去していません。",
            "What the request covers has changed since it was made (the signatures are over an "
            "older inventory): make a new request. Nothing was erased.",
        )


def signatures(session: Session, row: ErasureRequest) -> list[ErasureSignature]:
    query = select(ErasureSignature).where(ErasureSignature.request_id == row.id)
    return list(session.exec(query.order_by(col(ErasureSignature.id))).all())


def sign_request(
    session: Session,
    settings: Settings,
    row: ErasureRequest,
    user: StaffUser,
    password: str,
    actor: str,
    now: datetime,
) -> ErasureSignature:
    """The officer's, then a manager's, signature over the request's current inventory."""
    if row.status != "requested":
        raise ErasureRefused(
            "この依頼はすでに実施されています。", "This request has been executed already."
        )
    role = signing_role(user)
    require_signer(session, user, role)
    existing = signatures(session, row)
    if any(s.user_id == user.id for s in existing):
        raise ErasureRefused(
            "同じ人が2度署名することはできません。別の人が署名してください。",
            "The same person cannot sign twice: the other signature is someone else's.",
        )
    if any(s.role == role for s in existing):
        raise ErasureRefused(
            "この役割の署名はすでにあります。", "This role has signed this request already."
        )
    if role == "manager" and not existing:
        raise ErasureRefused(
            "先に担当者が署名してください。", "The officer signs first, then a manager."
        )
    check_current(session, settings, row)
    key, seed = open_key(session, user, password)
    assert user.id is not None and key.id is not None
    signature = ErasureSignature(
        request_id=row.id,
        role=role,
        user_id=user.id,
        key_id=key.id,
        inventory_sha256=row.inventory_sha256,
        signature=sign(seed, message(row.id, role, user.name, row.inventory_sha256)),
        signed_at=now,
    )
    del seed
    session.add(signature)
    session.flush()
    audit.append(
        session,
        actor,
        "erasure.sign",
        {
            "request": row.id,
            "role": role,
            "key": key.fingerprint,
            "inventory": row.inventory_sha256,
        },
        lambda: now,
    )
    return signature


def checked_approvals(
    session: Session, row: ErasureRequest
) -> list[tuple[ErasureSignature, StaffUser, StaffKey]]:
    """Both approvals, each valid now: two different people, officer and manager, each still
    allowed to sign, with their active attested key, over exactly this inventory."""
    found = {s.role: s for s in signatures(session, row)}
    missing = [r for r in APPROVAL_ROLES if r not in found]
    if missing:
        raise ErasureRefused(
            "担当者と責任者の2人の署名が必要です（署名が足りません）。",
            "Two signatures are needed, an officer's and a manager's: "
            f"missing {', '.join(missing)}.",
        )
    out = []
    for role in APPROVAL_ROLES:
        s = found[role]
        user = session.get(StaffUser, s.user_id)
        require_signer(session, user, role)
        assert user is not None
        key = session.get(StaffKey, s.key_id)
        if key is None or key.id != active_key(session, user).id:
            raise ErasureRefused(
                f"{user.name} の署名に使った鍵はもう使われていません。署名し直してください。",
                f"The key {user.name} signed with is no longer their active key: sign again.",
            )
        if s.inventory_sha256 != row.inventory_sha256:
            raise ErasureRefused(
                "署名が古い一覧に対するものです。", "A signature is over an older inventory."
            )
        try:
            verify_signature(
                key.public_key, message(row.id, role, user.name, row.inventory_sha256), s.signature
            )
        except SignatureError as exc:
            raise ErasureRefused(
                f"{user.name} の署名が正しくありません（偽造または改ざん）。何も消去していません。",
                f"{user.name}'s signature does not verify (forged or altered). Nothing was erased.",
            ) from exc
        out.append((s, user, key))
    if out[0][1].id == out[1][1].id:
        raise ErasureRefused(
            "担当者と責任者は別の人です。", "The officer and the manager must be two people."
        )
    return out
