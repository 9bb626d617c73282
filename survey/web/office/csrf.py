"""CSRF tokens, checked centrally for every unsafe request (POST, PUT, PATCH, DELETE).

The role guard calls :func:`enforce` before any handler runs, so a new handler cannot forget
the check; the body is parsed there, once (survey.web.office.forms).

- A logged-in request carries its session's token (``staff_session.csrf``, kept server-side
  with the session): a token of another session is refused like a missing one.
- The login form, the one public unsafe route, carries a pre-login token issued with the
  form: the cookie and the field must both hold it, and the database its unexpired SHA-256,
  which the attempt consumes. A value the client chose itself is refused (the old double
  submit cookie accepted any value the client set on both sides), and so is a replay.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import anyio
from litestar.connection import ASGIConnection
from litestar.exceptions import PermissionDeniedException
from sqlalchemy import delete
from sqlmodel import col

from survey.models import StaffLoginToken
from survey.web.office import forms

if TYPE_CHECKING:
    from survey.web.office.auth import Office, Staff

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN_COOKIE = "survey_login"
LOGIN_TOKEN_LIFE = timedelta(minutes=10)
EXPIRED = "画面の有効期限が切れました。もう一度操作してください（CSRF）。"


LOGIN_EXPIRED = "画面の有効期限が切れました。もう一度ログインしてください。"


class LoginTokenRefused(PermissionDeniedException):
    """The login form's token is missing, foreign, used or expired: a fresh form is shown,
    with the new token issued here (the exception handler cannot wait on the database)."""

    def __init__(self, fresh_token: str) -> None:
        super().__init__(LOGIN_EXPIRED)
        self.fresh_token = fresh_token


def is_unsafe(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    return str(connection.scope.get("method", "GET")).upper() in UNSAFE


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_login_token(office: Office) -> str:
    """A new pre-login token; its hash is stored until it expires (blocking: run in a thread)."""
    token = secrets.token_urlsafe(32)
    now = office.clock()
    with office.write() as session:
        # Expired tokens go at each issue: the table holds ten minutes' worth at most.
        session.execute(delete(StaffLoginToken).where(col(StaffLoginToken.expires_at) <= now))
        session.add(StaffLoginToken(id=_digest(token), expires_at=now + LOGIN_TOKEN_LIFE))
    return token


def consume_login_token(office: Office, token: str) -> bool:
    """Whether ``token`` was issued and is unexpired; it is spent either way (single use)."""
    now = office.clock()
    with office.write() as session:
        row = session.get(StaffLoginToken, _digest(token))
        if row is None:
            return False
        session.delete(row)
        return row.expires_at > now


def check_session_token(staff: Staff, token: str | None) -> None:
    if not token or not hmac.compare_digest(token.encode(), staff.csrf.encode()):
        raise PermissionDeniedException(EXPIRED)


async def enforce(
    connection: ASGIConnection[Any, Any, Any, Any],
    office: Office,
    staff: Staff | None,
    max_files: int = 1,
) -> None:
    """Parse an unsafe request's body and check its token: the session's, or for a public
    route (the login form) a server-issued pre-login token."""
    posted = await forms.parse(connection, max_files)
    if staff is not None:
        check_session_token(staff, posted.fields.get("csrf_token"))
        return
    token = posted.fields.get("login_token", "")
    cookie = connection.cookies.get(LOGIN_COOKIE, "")
    # Spent by any attempt that presents it, matching cookie or not.
    issued = bool(token) and await anyio.to_thread.run_sync(consume_login_token, office, token)
    if not (issued and hmac.compare_digest(token.encode(), cookie.encode())):
        raise LoginTokenRefused(await anyio.to_thread.run_sync(issue_login_token, office))
