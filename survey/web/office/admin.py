"""Accounts (admin), key confirmations (manager), the audit log (manager, admin), own password."""

from __future__ import annotations

from litestar import get, post
from litestar.datastructures import State
from litestar.exceptions import ClientException
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlmodel import col, select

from survey import accounts, audit
from survey.errors import SurveyError
from survey.models import AuditEntry, StaffKey, StaffUser
from survey.web.office.common import (
    ADMIN,
    ANY_STAFF,
    MANAGER,
    Req,
    form_of,
    office_of,
    page,
)

AUDIT_PAGE = 200


def _users(state: State) -> list[tuple[StaffUser, StaffKey]]:
    with office_of(state).read() as session:
        return [(u, accounts.active_key(session, u)) for u in accounts.list_users(session)]


@get("/admin/users", opt={"roles": (ADMIN,)}, sync_to_thread=True)
def users(request: Req, state: State) -> Template:
    return page(request, "users.html", users=_users(state), roles=accounts.ROLES)


@post("/admin/users", opt={"roles": (ADMIN,)}, status_code=303)
async def add_user(request: Req, state: State) -> Redirect | Template:
    staff, form = await form_of(request)
    office = office_of(state)
    name = form.get("name", "").strip()
    roles = [r for r in accounts.ROLES if form.get(f"role_{r}")]
    try:
        with office.write() as session:
            accounts.add_user(session, name, roles, form.get("new_password", ""))
            audit.append(
                session, staff.actor, "user.add", {"user": name, "roles": roles}, office.clock
            )
    except SurveyError as exc:
        return page(
            request,
            "users.html",
            status_code=400,
            users=_users(state),
            roles=accounts.ROLES,
            error=exc.ja,
        )
    return Redirect("/office/admin/users", status_code=303)


@post("/admin/users/{name:str}/{action:str}", opt={"roles": (ADMIN,)}, status_code=303)
async def change_user(
    request: Req, state: State, name: FromPath[str], action: FromPath[str]
) -> Redirect | Template:
    staff, form = await form_of(request)
    office = office_of(state)
    try:
        with office.write() as session:
            user = accounts.require_user(session, name)
            detail: dict[str, object] = {"user": name}
            if action == "roles":
                accounts.set_roles(
                    session, user, [r for r in accounts.ROLES if form.get(f"role_{r}")]
                )
                detail["roles"] = user.roles
            elif action in ("disable", "enable"):
                if user.name == staff.name:
                    raise ClientException("自分のアカウントは無効にできません。")
                accounts.set_disabled(session, user, action == "disable")
            elif action == "reset":
                key = accounts.reset_password(session, user, form.get("new_password", ""))
                detail["new_key"] = key.fingerprint
            else:
                raise ClientException("その操作はありません。")
            audit.append(session, staff.actor, f"user.{action}", detail, office.clock)
    except SurveyError as exc:
        return page(
            request,
            "users.html",
            status_code=400,
            users=_users(state),
            roles=accounts.ROLES,
            error=exc.ja,
        )
    return Redirect("/office/admin/users", status_code=303)


@get("/keys", opt={"roles": (MANAGER,)}, sync_to_thread=True)
def keys(request: Req, state: State) -> Template:
    with office_of(state).read() as session:
        names = {u.id: u.name for u in accounts.list_users(session)}
        pending = session.exec(
            select(StaffKey).where(
                col(StaffKey.active).is_(True), col(StaffKey.confirmed).is_(False)
            )
        ).all()
    return page(request, "keys.html", pending=[(names[k.user_id], k) for k in pending])


@post("/keys/{key_id:int}/confirm", opt={"roles": (MANAGER,)}, status_code=303)
async def confirm_key(request: Req, state: State, key_id: FromPath[int]) -> Redirect:
    staff, form = await form_of(request)
    office = office_of(state)
    with office.write() as session:
        key = session.get(StaffKey, key_id)
        if key is None or not key.active:
            raise ClientException("その鍵はありません。")
        if form.get("fingerprint", "").strip().upper() != key.fingerprint:
            raise ClientException("指紋が一致しません。本人と直接確かめてください。")
        manager = accounts.require_user(session, staff.name)
        try:
            accounts.confirm_key(session, key, manager)
        except SurveyError as exc:
            raise ClientException(exc.ja) from exc
        user = session.get(StaffUser, key.user_id)
        audit.append(
            session,
            staff.actor,
            "user.key_confirm",
            {"user": user.name if user else key.user_id, "key": key.fingerprint},
            office.clock,
        )
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
        report = audit.verify(session)
    return page(request, "audit.html", entries=entries, report=report, action=action, actor=actor)


@get("/account", opt={"roles": ANY_STAFF}, sync_to_thread=True)
def account(request: Req) -> Template:
    return page(request, "account.html")


@post("/account/password", opt={"roles": ANY_STAFF}, status_code=303)
async def change_password(request: Req, state: State) -> Redirect | Template:
    staff, form = await form_of(request)
    office = office_of(state)
    if form.get("new_password") != form.get("confirm_password"):
        return page(
            request, "account.html", status_code=400, error="新しいパスワードが一致しません。"
        )
    try:
        with office.write() as session:
            user = accounts.require_user(session, staff.name)
            accounts.change_password(
                session, user, form.get("password", ""), form.get("new_password", "")
            )
            audit.append(session, staff.actor, "user.password", {"user": staff.name}, office.clock)
    except SurveyError as exc:
        return page(request, "account.html", status_code=400, error=exc.ja)
    return Redirect("/office/account?changed=1", status_code=303)
