"""Office authentication: server-side sessions, role guards, CSRF tokens, password re-entry.

Sessions live in the database (several workers share them). The cookie carries a random token;
the table keeps only its SHA-256, so a copy of the database opens no session. A new token is
issued at every login (no fixation); idle sessions end after 30 minutes, every session after
8 hours; logout deletes it. Every route declares who may use it in its ``opt``: ``roles``
(any one of them suffices) or ``public``; a route that declares neither is refused (deny by
default). The same guard checks the CSRF token of every unsafe request (survey.web.office.csrf)
before any handler runs.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy import Engine, delete, update
from sqlmodel import Session, col

from survey import accounts, audit
from survey.db import transaction
from survey.models import StaffSession, StaffUser
from survey.settings import Settings
from survey.web.office import csrf
from survey.web.ratelimit import AddressLimiter

COOKIE = "survey_office"
PATH = "/office"
IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=8)
LOGIN_FAILURES_PER_ADDRESS = 10
LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
# last_seen is written at most this often: most requests then only read the session, and
# the idle time-out is exact to within a minute.
TOUCH = timedelta(minutes=1)


class PasswordChangeRequired(PermissionDeniedException):
    """The user's password was set by someone else: they choose their own before anything."""


@dataclass(frozen=True, slots=True)
class Staff:
    """The logged-in staff member, as a request sees them."""

    user_id: int
    name: str
    roles: tuple[str, ...]
    session_id: str
    csrf: str
    must_change: bool = False

    @property
    def actor(self) -> str:
        return f"user:{self.name}"

    def has(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)


class Office:
    """Per-app state: the engine, settings, a clock (tests move it to expire sessions) and the
    in-memory count of failed logins per client address."""

    def __init__(self, engine: Engine, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        # Beside each account's lockout: one address guessing across many names is stopped
        # too, without locking anyone out.
        self.login_failures = AddressLimiter(
            LOGIN_FAILURES_PER_ADDRESS,
            LOGIN_FAILURE_WINDOW.total_seconds(),
            clock=lambda: clock().timestamp(),
        )

    def write(self) -> AbstractContextManager[Session]:
        """A writing transaction (SQLite: BEGIN IMMEDIATE), committed at the end."""
        return transaction(self.engine, write=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_cookie(token: str, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=token,
        path=PATH,
        secure=True,
        httponly=True,
        samesite="strict",
        max_age=max_age,
    )


def cleared_cookie() -> Cookie:
    return session_cookie("", max_age=0)


def start_session(session: Session, user: StaffUser, now: datetime) -> str:
    """A fresh session for ``user``; returns the cookie token (never stored)."""
    token = secrets.token_urlsafe(32)
    assert user.id is not None
    session.add(
        StaffSession(
            id=_digest(token),
            user_id=user.id,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            last_seen=now,
        )
    )
    # Ended sessions are not kept: anyone's expired rows go at each login.
    session.execute(delete(StaffSession).where(col(StaffSession.last_seen) < now - IDLE))
    session.flush()
    return token


def end_session(session: Session, session_id: str) -> None:
    session.execute(delete(StaffSession).where(col(StaffSession.id) == session_id))


def resolve(office: Office, token: str | None) -> Staff | None:
    """The staff member behind a cookie token, if the session is alive (blocking: call it in
    a worker thread). Reads; writes only to end an expired session or touch a stale one."""
    if not token:
        return None
    now = office.clock()
    digest = _digest(token)
    with office.read() as session:
        row = session.get(StaffSession, digest)
        user = session.get(StaffUser, row.user_id) if row is not None else None
    if row is None:
        return None
    alive = now - row.last_seen <= IDLE and now - row.created_at <= ABSOLUTE
    if not alive or user is None or user.disabled:
        with office.write() as session:
            end_session(session, digest)
        return None
    if now - row.last_seen > TOUCH:
        with office.write() as session:
            session.execute(
                update(StaffSession).where(col(StaffSession.id) == digest).values(last_seen=now)
            )
    assert user.id is not None
    return Staff(user.id, user.name, tuple(user.roles), row.id, row.csrf, user.must_change)


async def load_staff(connection: ASGIConnection[Any, Any, Any, Any]) -> Staff | None:
    """Resolve the session once per request, in a worker thread (never on the event loop)."""
    state = connection.scope.setdefault("state", {})
    if "staff" not in state:
        office: Office = connection.app.state.office
        token = connection.cookies.get(COOKIE)
        state["staff"] = await anyio.to_thread.run_sync(resolve, office, token)
    staff: Staff | None = state["staff"]
    return staff


def current_staff(connection: ASGIConnection[Any, Any, Any, Any]) -> Staff | None:
    """The staff member the guard resolved for this request (None if not logged in)."""
    staff: Staff | None = connection.scope.get("state", {}).get("staff")
    return staff


def require_staff(connection: ASGIConnection[Any, Any, Any, Any]) -> Staff:
    staff = current_staff(connection)
    if staff is None:
        raise NotAuthorizedException("ログインしてください。")
    return staff


async def role_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Every office route: public, or a logged-in member holding one of its roles; and for
    every unsafe method, the CSRF token (checked here, so no handler can forget it)."""
    staff = await load_staff(connection)
    office: Office = connection.app.state.office
    if handler.opt.get("public"):
        if csrf.is_unsafe(connection):  # the login form: a pre-login token, never a session's
            await csrf.enforce(connection, office, None)
        return
    roles = handler.opt.get("roles")
    if not roles:
        raise PermissionDeniedException("この画面の利用権限が設定されていません。")
    if staff is None:
        raise NotAuthorizedException("ログインしてください。")
    if not staff.has(*roles):
        raise PermissionDeniedException("この操作の権限がありません。")
    if staff.must_change and not handler.opt.get("before_password_change"):
        raise PasswordChangeRequired("はじめに自分のパスワードを設定してください。")
    if csrf.is_unsafe(connection):  # after the role check: strangers' bodies are not read
        await csrf.enforce(connection, office, staff, int(handler.opt.get("files", 1)))


def reauthenticate(office: Office, staff: Staff, password: str | None, action: str) -> None:
    """Password re-entry for a sensitive action; failures count towards the lockout.

    Blocking (Argon2id, then a short write): call it in a worker thread.
    """
    with office.read() as session:
        user = accounts.get_user(session, staff.name)
    ok = accounts.check_attempt(user, password or "")  # outside any write lock
    now = office.clock()
    with office.write() as session:
        try:
            accounts.record_attempt(session, staff.name, ok, now)
        except accounts.AccountError as exc:
            locked = isinstance(exc, accounts.Locked) and exc.new
            event = "login.locked" if locked else "reauth.failed"
            audit.append(session, staff.actor, event, {"for": action}, office.clock)
            if isinstance(exc, accounts.Locked):
                end_session(session, staff.session_id)
            session.commit()
            # Said to the member who is logged in: no name was typed, so "the user name or
            # the password" would be wrong; a lockout ends this session and is said so.
            if isinstance(exc, accounts.Locked):
                told = (
                    "パスワードの誤りが続いたため、しばらくログインできません。"
                    "15分ほど待ってからログインし直してください"
                )
            elif isinstance(exc, accounts.LoginFailed):
                told = "パスワードが違います"
            else:
                told = exc.ja.rstrip("。")
            raise PermissionDeniedException(f"{told}（{action}）。") from exc
