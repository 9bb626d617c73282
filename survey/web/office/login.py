"""Login and logout.

A wrong password, an unknown name and a locked account get one answer. Failed logins are
counted per account (five lock it for 15 minutes) and per client address (ten in 15 minutes
stop that address, whatever names it tries); the address is counted in memory only, under a
keyed hash (survey.web.ratelimit), never written to the database or a log.
"""

from __future__ import annotations

import anyio
from litestar import get, post
from litestar.datastructures import Cookie, State
from litestar.response import Redirect, Template

from survey import accounts, audit
from survey.web.office.auth import (
    Office,
    Staff,
    cleared_cookie,
    end_session,
    load_staff,
    require_staff,
    session_cookie,
    start_session,
)
from survey.web.office.common import ANY_STAFF, Req, office_of
from survey.web.office.csrf import LOGIN_COOKIE, LOGIN_TOKEN_LIFE, issue_login_token
from survey.web.office.forms import posted_of

THROTTLED = "この端末からのログインの失敗が続いています。15分ほど待ってからやり直してください。"


def _login_token_cookie(value: str, max_age: int = int(LOGIN_TOKEN_LIFE.total_seconds())) -> Cookie:
    return Cookie(
        key=LOGIN_COOKIE,
        value=value,
        path="/office/login",
        secure=True,
        httponly=True,
        samesite="strict",
        max_age=max_age,
    )


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def insecure_origin(request: Req) -> str | None:
    """Why a login cannot work here, or None: over plain HTTP, browsers keep the Secure
    session cookie only for localhost, so anywhere else the login would silently fail.
    Returns the port (for the localhost address to suggest), as text."""
    url = request.url
    host = (url.hostname or "").strip("[]").lower()
    if url.scheme == "https" or host in LOCAL_HOSTS or host.endswith(".localhost"):
        return None
    return str(url.port or 80)


def login_page(request: Req, token: str, error: str | None = None, status: int = 200) -> Template:
    """The login form with a pre-login token the server issued (issue_login_token)."""
    return Template(
        template_name="login.html",
        context={"login_token": token, "error": error, "insecure_port": insecure_origin(request)},
        cookies=[_login_token_cookie(token)],
        status_code=status,
    )


@get("/login", opt={"public": True}, sync_to_thread=True)
def login_form(request: Req, state: State) -> Template:
    return login_page(request, issue_login_token(office_of(state)))


@post("/login", opt={"public": True}, status_code=303)
async def login(request: Req, state: State) -> Template | Redirect:
    """The pre-login token was checked and spent by the role guard (survey.web.office.csrf)."""
    form = posted_of(request).fields
    name = form.get("username", "").strip()
    password = form.get("password", "")
    office = office_of(state)
    # The address serves this count only, in memory (see the module docstring).
    client = request.client.host if request.client else ""
    if not office.login_failures.admit(client):  # counted as a failure until it succeeds
        token = await anyio.to_thread.run_sync(issue_login_token, office)
        return login_page(request, token, THROTTLED, 429)
    old = await load_staff(request)
    outcome = await anyio.to_thread.run_sync(_log_in, office, name, password, old)
    if isinstance(outcome, accounts.AccountError):
        token = await anyio.to_thread.run_sync(issue_login_token, office)
        return login_page(request, token, outcome.ja, 401)
    office.login_failures.forgive(client)
    token, must_change = outcome
    response = Redirect("/office/account" if must_change else "/office/", status_code=303)
    response.set_cookie(session_cookie(token))
    response.set_cookie(_login_token_cookie("", max_age=0))
    return response


def _log_in(
    office: Office, name: str, password: str, old: Staff | None
) -> tuple[str, bool] | accounts.AccountError:
    """Check the password (Argon2id, outside any write lock), then record the outcome."""
    with office.read() as session:
        user = accounts.get_user(session, name)
    ok = accounts.check_attempt(user, password)
    now = office.clock()
    with office.write() as session:
        try:
            found = accounts.record_attempt(session, name, ok, now)
        except accounts.AccountError as exc:
            locked = isinstance(exc, accounts.Locked) and exc.new
            # The name is recorded only if it is an account: a password typed into the name
            # field must not end up in the log.
            actor = f"user:{name}" if user is not None else "unknown"
            audit.append(
                session, actor, "login.locked" if locked else "login.failed", {}, office.clock
            )
            return exc
        # A new session at every login, whatever cookie came in (no fixation).
        if old is not None:
            end_session(session, old.session_id)
        token = start_session(session, found, now)
        audit.append(session, f"user:{found.name}", "login.ok", {}, office.clock)
        return token, found.must_change


@post("/logout", opt={"roles": ANY_STAFF, "before_password_change": True}, status_code=303)
async def logout(request: Req, state: State) -> Redirect:
    staff = require_staff(request)
    office = office_of(state)

    def end() -> None:
        with office.write() as session:
            end_session(session, staff.session_id)
            audit.append(session, staff.actor, "logout", {}, office.clock)

    await anyio.to_thread.run_sync(end)
    response = Redirect("/office/login", status_code=303)
    response.set_cookie(cleared_cookie())
    return response
