"""Accounts (admin), key confirmations (manager), the audit log (manager, admin), own password.

Database work and password hashing run in worker threads, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
from litestar import get, post
from litestar.datastructures import State
from litestar.exceptions import ClientException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import col, select

from survey import accounts, audit, staff_keys
from survey.errors import SurveyError
from survey.models import AuditEntry, StaffKey, StaffUser
from survey.web.office.auth import Office, Staff, reauthenticate
from survey.web.office.common import ADMIN, ANY_STAFF, MANAGER, Req, form_of, office_of, page

AUDIT_PAGE = 200
FIRST = {"before_password_change": True}  # reachable while a new password is still due


def _users(office: Office) -> list[tuple[StaffUser, StaffKey]]:
    with office.read() as session:
        return [(u, staff_keys.active_key(session, u)) for u in accounts.list_users(session)]


def _users_page(request: Req, office: Office, error: str | None = None) -> Template:
    return page(
        request,
        "users.html",
        status_code=400 if error else 200,
        users=_users(office),
        roles=accounts.ROLES,
        error=error,
    )


async def _run(call: Callable[[], Any]) -> str | None:
    """Run a blocking account change in a thread; its refusal's Japanese text, if any."""
    try:
        await anyio.to_thread.run_sync(call)
    except SurveyError as exc:
        return exc.ja
    return None


@get("/admin/users", opt={"roles": (ADMIN,)}, sync_to_thread=True)
def users(request: Req, state: State) -> Template:
    return _users_page(request, office_of(state))


@post("/admin/users", opt={"roles": (ADMIN,)}, status_code=303)
async def add_user(request: Req, state: State) -> Redirect | Template:
    staff, form = form_of(request)
    office = office_of(state)
    name = form.get("name", "").strip()
    roles = [r for r in accounts.ROLES if form.get(f"role_{r}")]

    def add() -> None:
        with office.write() as session:
            admin = accounts.require_user(session, staff.name)
            # The user chooses their own password at the first login (a new key then).
            accounts.add_user(session, name, roles, form.get("new_password", ""), by=admin)
            detail = {"user": name, "roles": roles}
            audit.append(session, staff.actor, "user.add", detail, office.clock)

    error = await _run(add)
    if error:
        return await anyio.to_thread.run_sync(_users_page, request, office, error)
    return Redirect("/office/admin/users", status_code=303)


@post("/admin/users/{name:str}/{action:str}", opt={"roles": (ADMIN,)}, status_code=303)
async def change_user(
    request: Req, state: State, name: FromPath[str], action: FromPath[str]
) -> Redirect | Template:
    staff, form = form_of(request)
    office = office_of(state)
    if action not in ("roles", "disable", "enable", "reset"):
        raise ClientException("その操作はありません。")

    def change() -> None:
        with office.write() as session:
            user = accounts.require_user(session, name)
            detail: dict[str, object] = {"user": name}
            if action == "roles":
                chosen = [r for r in accounts.ROLES if form.get(f"role_{r}")]
                accounts.set_roles(session, user, chosen)
                detail["roles"] = user.roles
            elif action in ("disable", "enable"):
                if user.name == staff.name:
                    raise ClientException("自分のアカウントは無効にできません。")
                accounts.set_disabled(session, user, action == "disable")
                if action == "disable":
                    accounts.end_sessions(session, user)
            else:
                admin = accounts.require_user(session, staff.name)
                key = accounts.reset_password(session, user, form.get("new_password", ""), admin)
                detail["new_key"] = key.fingerprint
            audit.append(session, staff.actor, f"user.{action}", detail, office.clock)

    error = await _run(change)
    if error:
        return await anyio.to_thread.run_sync(_users_page, request, office, error)
    return Redirect("/office/admin/users", status_code=303)


@get("/keys", opt={"roles": (MANAGER,)}, sync_to_thread=True)
def keys(request: Req, state: State) -> Template:
    """Keys awaiting confirmation; for each, whether this manager may confirm it, or why not."""
    staff: Staff = request.scope["state"]["staff"]
    with office_of(state).read() as session:
        manager = accounts.require_user(session, staff.name)
        rows = [
            (user.name, key, staff_keys.confirm_refusal(session, key, manager))
            for user, key in staff_keys.pending(session)
        ]
        own = staff_keys.may_confirm_others(session, manager)
    return page(request, "keys.html", pending=rows, own_confirmed=own)


@post("/keys/{key_id:int}/confirm", opt={"roles": (MANAGER,)}, status_code=303)
async def confirm_key(request: Req, state: State, key_id: FromPath[int]) -> Redirect:
    staff, form = form_of(request)
    office = office_of(state)

    def confirm() -> None:
        with office.write() as session:
            key = session.get(StaffKey, key_id)
            if key is None or not key.active:
                raise ClientException("その鍵はありません。")
            if form.get("fingerprint", "").strip().upper() != key.fingerprint:
                raise ClientException("指紋が一致しません。本人と直接確かめてください。")
            manager = accounts.require_user(session, staff.name)
            staff_keys.confirm_key(session, key, manager, office.clock())
            user = session.get(StaffUser, key.user_id)
            detail = {"user": user.name if user else key.user_id, "key": key.fingerprint}
            audit.append(session, staff.actor, "user.key_confirm", detail, office.clock)

    error = await _run(confirm)
    if error:
        raise ClientException(error)
    return Redirect("/office/keys", status_code=303)


@get("/audit", opt={"roles": (MANAGER, ADMIN)}, sync_to_thread=True)
def audit_log(request: Req, state: State) -> Template:
    """Browse and filter the log: by action prefix and actor, newest first."""
    action = request.query_params.get("action", "").strip()
    actor = request.query_params.get("actor", "").strip()
    with office_of(state).read() as session:
        query = select(AuditEntry).order_by(col(AuditEntry.seq).desc())
        if action:
            query = query.where(col(AuditEntry.action).startswith(action))
        if actor:
            query = query.where(col(AuditEntry.actor).contains(actor))
        entries = session.exec(query.limit(AUDIT_PAGE)).all()
        # The head is read before the chain is checked, so an intact report covers it.
        head = audit.head_anchor(session)
        report = audit.verify(session)
    return page(
        request, "audit.html", entries=entries, report=report, head=head, action=action, actor=actor
    )


def _key_of(office: Office, staff: Staff) -> StaffKey:
    with office.read() as session:
        return staff_keys.active_key(session, accounts.require_user(session, staff.name))


@get("/account", opt={"roles": ANY_STAFF, **FIRST}, sync_to_thread=True)
def account(request: Req, state: State) -> Template:
    """The user's own page: roles, signing-key fingerprint (read out to a manager), password."""
    office = office_of(state)
    staff = request.scope["state"]["staff"]
    return page(request, "account.html", key=_key_of(office, staff))


@post("/account/password", opt={"roles": ANY_STAFF, **FIRST}, status_code=303)
async def change_password(request: Req, state: State) -> Redirect | Template:
    staff, form = form_of(request)
    office = office_of(state)

    def refused(message: str) -> Template:
        key = _key_of(office, staff)
        return page(request, "account.html", status_code=400, error=message, key=key)

    if form.get("new_password") != form.get("confirm_password"):
        return await anyio.to_thread.run_sync(refused, "新しいパスワードが一致しません。")
    # The current password is checked like a login: wrong guesses count towards the lockout.
    await anyio.to_thread.run_sync(
        reauthenticate, office, staff, form.get("password"), "パスワード変更"
    )

    def change() -> None:
        with office.write() as session:
            user = accounts.require_user(session, staff.name)
            old, new = form.get("password", ""), form.get("new_password", "")
            key = accounts.change_password(session, user, old, new)
            accounts.end_sessions(session, user, keep=staff.session_id)  # other devices out
            detail = {"user": staff.name, "key": key.fingerprint}
            audit.append(session, staff.actor, "user.password", detail, office.clock)

    error = await _run(change)
    if error:
        return await anyio.to_thread.run_sync(refused, error)
    return Redirect("/office/account?changed=1", status_code=303)
