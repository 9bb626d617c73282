"""Office access: login, lockout, sessions, fixation, CSRF, and the role guard on every route."""

from __future__ import annotations

import json
import re
from http.cookies import Morsel, SimpleCookie
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, col, select

from survey.db import Database
from survey.models import AuditEntry, StaffLoginToken, StaffSession, StaffUser
from tests.web.office_helpers import (
    BASE,
    PASSWORD,
    Clock,
    csrf,
    log_in,
    login_token,
    make_staff,
)

Client = TestClient[Litestar]

# Who may use each route: the declared role matrix. A test walks the app's route table and
# fails on any route missing here or guarded differently.
ROLE_MATRIX: dict[tuple[str, str], str | frozenset[str]] = {
    ("GET", "/office/login"): "public",
    ("POST", "/office/login"): "public",
    ("GET", "/office/static/{file_path:path}"): "public",
    ("HEAD", "/office/static/{file_path:path}"): "public",
    ("POST", "/office/logout"): frozenset({"officer", "manager", "analyst", "admin"}),
    ("GET", "/office"): frozenset({"officer", "manager", "analyst", "admin"}),
    ("POST", "/office/studies"): frozenset({"officer"}),
    ("GET", "/office/studies/{name:str}/opinions"): frozenset({"analyst"}),
    ("POST", "/office/studies/{name:str}/opinions/categories"): frozenset({"analyst"}),
    ("GET", "/office/studies/{name:str}/opinions/{variable:str}"): frozenset({"analyst"}),
    ("POST", "/office/studies/{name:str}/opinions/{variable:str}/{answer:int}"): frozenset(
        {"analyst"}
    ),
    ("GET", "/office/studies/{name:str}"): frozenset({"officer", "manager", "admin"}),
    ("POST", "/office/studies/{name:str}/draw"): frozenset({"officer"}),
    ("POST", "/office/studies/{name:str}/files/{kind:str}"): frozenset({"officer"}),
    ("GET", "/office/studies/{name:str}/dashboard"): frozenset({"officer", "manager"}),
    ("GET", "/office/studies/{name:str}/dashboard.png"): frozenset({"officer", "manager"}),
    ("GET", "/office/studies/{name:str}/dashboard.csv"): frozenset({"officer", "manager"}),
    ("GET", "/office/admin/users"): frozenset({"admin"}),
    ("POST", "/office/admin/users"): frozenset({"admin"}),
    ("POST", "/office/admin/users/{name:str}/{action:str}"): frozenset({"admin"}),
    ("GET", "/office/keys"): frozenset({"manager"}),
    ("POST", "/office/keys/{key_id:int}/confirm"): frozenset({"manager"}),
    ("GET", "/office/audit"): frozenset({"manager", "admin"}),
    ("GET", "/office/account"): frozenset({"officer", "manager", "analyst", "admin"}),
    ("POST", "/office/account/password"): frozenset({"officer", "manager", "analyst", "admin"}),
    ("GET", "/office/studies/{name:str}/paper"): frozenset({"officer"}),
    ("POST", "/office/studies/{name:str}/paper/receipts"): frozenset({"officer"}),
    ("GET", "/office/studies/{name:str}/paper/key"): frozenset({"officer"}),
    ("GET", "/office/studies/{name:str}/paper/key/{no:str}"): frozenset({"officer"}),
    ("POST", "/office/studies/{name:str}/paper/key/{no:str}"): frozenset({"officer"}),
    ("GET", "/office/studies/{name:str}/paper/reconcile/{no:str}"): frozenset({"officer"}),
    ("POST", "/office/studies/{name:str}/paper/reconcile/{no:str}"): frozenset({"officer"}),
    ("GET", "/office/studies/{name:str}/paper/operators"): frozenset({"officer"}),
    ("GET", "/office/studies/{name:str}/responses"): frozenset({"analyst"}),
    ("POST", "/office/studies/{name:str}/bundles"): frozenset({"analyst"}),
    ("POST", "/office/studies/{name:str}/decrypt"): frozenset({"analyst"}),
    ("POST", "/office/studies/{name:str}/dataset/build"): frozenset({"analyst"}),
    ("POST", "/office/studies/{name:str}/dataset.csv"): frozenset({"analyst"}),
    ("GET", "/office/studies/{name:str}/quarantine.csv"): frozenset({"analyst"}),
    ("GET", "/office/studies/{name:str}/analysis"): frozenset({"analyst"}),
    ("POST", "/office/studies/{name:str}/analysis"): frozenset({"analyst"}),
    ("GET", "/office/studies/{name:str}/analysis/{group:str}/{block:str}"): frozenset({"analyst"}),
    ("GET", "/office/studies/{name:str}/analysis/{group:str}/{block:str}/internal"): frozenset(
        {"analyst"}
    ),
    ("GET", "/office/studies/{name:str}/charts/{group:str}/{chart:str}"): frozenset({"analyst"}),
    ("POST", "/office/studies/{name:str}/analysis-files/{kind:str}"): frozenset({"analyst"}),
    ("GET", "/office/studies/{name:str}/report"): frozenset({"analyst", "manager"}),
    ("POST", "/office/studies/{name:str}/report"): frozenset({"analyst", "manager"}),
    ("GET", "/office/studies/{name:str}/prepared/{token:str}"): frozenset({"analyst", "manager"}),
    ("GET", "/office/studies/{name:str}/erasure"): frozenset({"officer", "manager"}),
    ("POST", "/office/studies/{name:str}/erasure"): frozenset({"officer"}),
    ("GET", "/office/erasure/{request_id:str}"): frozenset({"officer", "manager"}),
    ("POST", "/office/erasure/{request_id:str}/sign"): frozenset({"officer", "manager"}),
    ("POST", "/office/erasure/{request_id:str}/execute"): frozenset({"officer"}),
    ("POST", "/office/erasure/{request_id:str}/confirm"): frozenset({"manager"}),
    ("GET", "/office/erasure/{request_id:str}/{filename:str}"): frozenset({"officer", "manager"}),
}


def declared(office_app: Litestar) -> dict[tuple[str, str], str | frozenset[str]]:
    out: dict[tuple[str, str], str | frozenset[str]] = {}
    for route in office_app.routes:
        for handler in getattr(route, "route_handlers", []):
            guard = (
                "public" if handler.opt.get("public") else frozenset(handler.opt.get("roles") or ())
            )
            for method in handler.http_methods:
                if method == "OPTIONS":
                    continue
                path = route.path.rstrip("/") or "/"
                out[(method, path)] = guard
    return out


def test_every_route_is_guarded_as_the_matrix_declares(office_app: Litestar) -> None:
    from survey.web.office.auth import role_guard

    table = declared(office_app)
    assert table == ROLE_MATRIX
    assert all(v for v in table.values())  # an empty role set would lock the route for all
    for route in office_app.routes:  # and the guard really runs on every one of them
        for handler in getattr(route, "route_handlers", []):
            assert role_guard in handler.resolve_guards(), route.path


ROLES = ("officer", "manager", "analyst", "admin")
REFUSED = "この操作の権限がありません"


def concrete(path: str) -> str:
    for param, value in (
        ("{name:str}", "shiki"), ("{kind:str}", "labels"), ("{action:str}", "roles"),
        ("{key_id:int}", "1"), ("{file_path:path}", "office.css"),
        ("{request_id:str}", "0" * 32), ("{filename:str}", "certificate.json"),
        ("{no:str}", "000001"), ("{group:str}", "general"), ("{block:str}", "health"),
        ("{chart:str}", "k6_grid.png"), ("{token:str}", "A" * 32),
        ("{variable:str}", "q_free"), ("{answer:int}", "1"),
    ):  # fmt: skip
        path = path.replace(param, value)
    return path


def test_every_route_answers_each_role_as_the_matrix_says(office: Client, db: Database) -> None:
    """Request every route as every role: the guard's refusal exactly where the matrix says."""
    make_staff(db, **{f"as_{r}": [r] for r in ROLES})
    for role in ROLES:
        log_in(office, f"as_{role}")
        for (method, path), allowed in ROLE_MATRIX.items():
            if path == "/office/logout":
                continue  # would end the session under test
            reply = office.request(method, concrete(path), follow_redirects=False)
            refused = reply.status_code == 403 and REFUSED in reply.text
            may = allowed == "public" or role in allowed
            assert refused != may, (role, method, path, reply.status_code)
    office.cookies.clear()
    for (method, path), allowed in ROLE_MATRIX.items():
        reply = office.request(method, concrete(path), follow_redirects=False)
        if allowed != "public":  # not logged in: sent to the login page
            assert reply.status_code == 303 and reply.headers["location"] == "/office/login"


def session_cookie(reply: Any) -> Morsel[str]:
    header = next(h for h in reply.headers.get_list("set-cookie") if "survey_office=" in h)
    return SimpleCookie(header)["survey_office"]


def audit_actions(db: Database) -> list[str]:
    with Session(db.engine) as session:
        return [e.action for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq)))]


def test_login_sets_a_strict_secure_cookie_and_a_new_session_each_time(
    office: Client, db: Database
) -> None:
    make_staff(db, olive=["officer"])
    assert office.get("/office/", follow_redirects=False).headers["location"] == "/office/login"
    office.cookies.set("survey_office", "attacker-chosen-value", domain="office.city.example")
    reply = log_in(office, "olive")
    assert reply.status_code == 303 and reply.headers["location"] == "/office/"
    morsel = session_cookie(reply)
    assert morsel["secure"] and morsel["httponly"]
    assert morsel["samesite"].lower() == "strict" and morsel["path"] == "/office"
    first = morsel.value
    assert first != "attacker-chosen-value"  # the planted id is never adopted
    office.cookies.clear()
    office.cookies.set("survey_office", first, domain="office.city.example")
    assert office.get("/office/").status_code == 200
    second = session_cookie(log_in(office, "olive")).value
    assert second != first  # no fixation: every login a new id, the old one ended
    with Session(db.engine) as session:
        assert len(session.exec(select(StaffSession)).all()) == 1
        ids = [s.id for s in session.exec(select(StaffSession))]
    assert first not in ids and second not in ids  # only hashes are stored
    assert audit_actions(db).count("login.ok") == 2


def test_wrong_passwords_lock_the_account_for_fifteen_minutes(
    office: Client, db: Database, clock: Clock
) -> None:
    make_staff(db, olive=["officer"])
    for _ in range(4):
        assert log_in(office, "olive", "wrong password").status_code == 401
    locked = log_in(office, "olive", "wrong password")
    assert locked.status_code == 401
    right_but_locked = log_in(office, "olive")  # the right password, but locked
    unknown = log_in(office, "nobody-here", "x")
    # One answer for a lock, a wrong password and an unknown name: none tells a name exists.
    assert {r.status_code for r in (right_but_locked, unknown)} == {401}
    assert error_of(locked) == error_of(right_but_locked) == error_of(unknown)
    assert error_of(unknown) == "ユーザー名またはパスワードが違います。"
    assert "ロック" not in locked.text and "UTC" not in locked.text
    clock.advance(minutes=16)
    assert log_in(office, "olive").status_code == 303
    actions = audit_actions(db)  # the log still tells the lock apart
    assert actions.count("login.failed") == 6 and actions.count("login.locked") == 1
    with Session(db.engine) as session:
        actors = [e.actor for e in session.exec(select(AuditEntry).order_by(col(AuditEntry.seq)))]
    assert actors[6] == "unknown" and "nobody-here" not in "".join(actors)  # a typo in a name


def error_of(reply: Any) -> str:
    match = re.search(r'<p class="error" role="alert">([^<]*)</p>', reply.text)
    assert match is not None, reply.text
    return match.group(1)


def test_ten_failures_from_one_address_stop_it_for_fifteen_minutes(
    office_app: Litestar, office: Client, db: Database, clock: Clock
) -> None:
    """Guessing across many names locks no account, but stops the address."""
    make_staff(db, olive=["officer"])
    for i in range(10):
        assert log_in(office, f"guess{i}", "password123").status_code == 401
    stopped = log_in(office, "olive")  # even the right password, from this address
    assert stopped.status_code == 429 and "この端末" in error_of(stopped)
    clock.advance(minutes=14)
    assert log_in(office, "olive").status_code == 429
    clock.advance(minutes=2)
    assert log_in(office, "olive").status_code == 303
    with Session(db.engine) as session:  # nobody was locked; the address is nowhere
        user = session.exec(select(StaffUser).where(StaffUser.name == "olive")).one()
        assert user.locked_until is None
        logged = json.dumps([e.model_dump(mode="json") for e in session.exec(select(AuditEntry))])
    assert "testclient" not in logged  # the test client's address
    limiter = office_app.state.office.login_failures
    assert limiter._hits and all(b"testclient" not in key for key in limiter._hits)


def test_login_form_needs_its_token(office: Client, db: Database) -> None:
    make_staff(db, olive=["officer"])
    reply = office.post(
        "/office/login", data={"username": "olive", "password": PASSWORD}, follow_redirects=False
    )
    assert reply.status_code == 403


def test_the_login_token_is_issued_by_the_server_and_used_once(
    office: Client, db: Database, clock: Clock
) -> None:
    make_staff(db, olive=["officer"])
    form = {"username": "olive", "password": PASSWORD}

    def post(token: str, cookie: str | None = None) -> Any:
        if cookie is not None:
            office.cookies.set("survey_login", cookie, domain="office.city.example")
        data = {**form, "login_token": token}
        return office.post("/office/login", data=data, follow_redirects=False)

    # A value the client chose for both the cookie and the field (the old double submit).
    assert post("chosen-by-the-client", cookie="chosen-by-the-client").status_code == 403
    office.cookies.clear()
    token = login_token(office)
    with Session(db.engine) as session:
        stored = [t.id for t in session.exec(select(StaffLoginToken))]
    assert stored and token not in stored  # only its hash is kept
    assert post(token, cookie="another value").status_code == 403  # cookie and field differ
    assert post(token, cookie=token).status_code == 403  # consumed by the attempt above
    token = login_token(office)
    clock.advance(minutes=11)
    assert post(token, cookie=token).status_code == 403  # expired
    token = login_token(office)
    assert post(token, cookie=token).status_code == 303


def foreign_tokens(office_app: Litestar, name: str) -> tuple[str, str]:
    """A session token and a login token issued to another client."""
    with TestClient(office_app, base_url=BASE) as other:
        pending = login_token(other)
        log_in(other, name)
        return csrf(other), pending


def test_every_post_route_refuses_a_missing_or_foreign_token(
    office_app: Litestar, office: Client, db: Database
) -> None:
    """Every unsafe route, tried as a role that may use it: no token, another session's
    token. Each is refused before its handler runs (no re-entry failure, nothing changed)."""
    make_staff(db, **{f"as_{r}": [r] for r in ROLES})
    posts = [(m, p, a) for (m, p), a in ROLE_MATRIX.items() if m not in ("GET", "HEAD")]
    assert {m for m, _, _ in posts} == {"POST"} and len(posts) >= 9
    for method, path, allowed in posts:
        url = concrete(path)
        role = "admin" if allowed == "public" else sorted(allowed)[0]
        session_token, pending = foreign_tokens(office_app, f"as_{role}")
        if allowed == "public":
            office.cookies.clear()
            own = login_token(office)
            assert own != pending
            data = {"username": f"as_{role}", "password": PASSWORD}
            for token in (None, pending):
                sent = data if token is None else {**data, "login_token": token}
                reply = office.request(method, url, data=sent, follow_redirects=False)
                assert reply.status_code == 403, (path, token)
            continue
        log_in(office, f"as_{role}")
        base = {"password": PASSWORD, "name": "shiki", "as_of": "2026-04-01"}
        base |= {"fingerprint": "X", "new_password": "x" * 20, "confirm_password": "x" * 20}
        for token in (None, session_token):
            data = base if token is None else {**base, "csrf_token": token}
            files = {"register": ("r.csv", b"x", "text/csv")} if path.endswith("/draw") else None
            reply = office.request(method, url, data=data, files=files, follow_redirects=False)
            assert reply.status_code == 403 and "CSRF" in reply.text, (path, token)
    actions = set(audit_actions(db))
    assert actions <= {"login.ok"}, actions  # no re-entry failure, no change, no logout
    assert office.get("/office/", follow_redirects=False).status_code == 200  # still in


def test_a_new_handler_cannot_forget_the_token(
    db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    from litestar import post

    from survey.web.office import app as office_module

    @post("/probe", opt={"roles": ("officer",)}, status_code=200, sync_to_thread=False)
    def probe() -> str:  # checks nothing itself
        return "done"

    monkeypatch.setattr(office_module, "HANDLERS", [*office_module.HANDLERS, probe])
    app = office_module.create_office_app(db.settings, db.engine, clock)
    make_staff(db, olive=["officer"])
    with TestClient(app, base_url=BASE) as client:
        log_in(client, "olive")
        assert client.post("/office/probe", data={}).status_code == 403
        assert client.post("/office/probe", data={"csrf_token": "forged"}).status_code == 403
        assert client.post("/office/probe", data={"csrf_token": csrf(client)}).text == "done"


def test_sessions_end_when_idle_or_old_and_at_logout(
    office: Client, db: Database, clock: Clock
) -> None:
    make_staff(db, olive=["officer"])
    log_in(office, "olive")
    clock.advance(minutes=29)
    assert office.get("/office/", follow_redirects=False).status_code == 200
    clock.advance(minutes=31)  # idle for 31 minutes
    assert office.get("/office/", follow_redirects=False).status_code == 303
    log_in(office, "olive")
    for _ in range(17):  # active every 29 minutes, yet past 8 hours
        clock.advance(minutes=29)
        last = office.get("/office/", follow_redirects=False).status_code
    assert last == 303
    log_in(office, "olive")
    token = csrf(office)
    assert office.post("/office/logout", data={}, follow_redirects=False).status_code == 403
    assert office.get("/office/", follow_redirects=False).status_code == 200  # still in
    out = office.post("/office/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert office.get("/office/", follow_redirects=False).status_code == 303
    assert "logout" in audit_actions(db)


def test_state_changes_need_the_csrf_token(office: Client, db: Database) -> None:
    make_staff(db, olive=["officer"])
    log_in(office, "olive")
    data = {"name": "shiki", "as_of": "2026-04-01"}
    assert office.post("/office/studies", data=data).status_code == 403
    assert office.post("/office/studies", data={**data, "csrf_token": "forged"}).status_code == 403
    ok = office.post(
        "/office/studies", data={**data, "csrf_token": csrf(office)}, follow_redirects=False
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/office/studies/shiki"


def test_roles_are_enforced(office: Client, db: Database) -> None:
    make_staff(db, ann=["analyst"], mia=["manager"], ada=["admin"])
    log_in(office, "ann")
    assert office.get("/office/").status_code == 200
    for path in ("/office/admin/users", "/office/audit", "/office/keys", "/office/studies/x"):
        assert office.get(path).status_code == 403, path
    log_in(office, "mia")
    assert office.get("/office/audit").status_code == 200
    assert office.get("/office/admin/users").status_code == 403
    log_in(office, "ada")
    assert office.get("/office/admin/users").status_code == 200
    assert office.get("/office/keys").status_code == 403


def test_security_headers_on_every_reply(office: Client, db: Database) -> None:
    make_staff(db, olive=["officer"])
    replies = [office.get("/office/login"), office.get("/office/static/office.css")]
    replies += [office.get("/office/", follow_redirects=False), office.get("/office/nowhere")]
    log_in(office, "olive")
    replies += [office.get("/office/"), office.get("/office/audit")]
    for reply in replies:
        csp = reply.headers["content-security-policy"]
        assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert reply.headers["referrer-policy"] == "no-referrer"
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["strict-transport-security"].startswith("max-age=")
    assert office.get("/schema").status_code in (303, 404)  # no schema UI pages
    assert office.get("/office/schema/swagger").status_code in (303, 403, 404)
    assert BASE.startswith("https://")


@pytest.mark.parametrize(
    "path", ["/office/static/%00office.css", "/office/static/office.css%00", "/office/%00"]
)
def test_a_nul_byte_in_a_path_is_not_found(office: Client, path: str) -> None:
    """Reproduces the defect: a NUL byte reached the static files' stat(), and the error page
    named the exception (ValueError)."""
    reply = office.get(path)
    assert reply.status_code == 404
    assert "ValueError" not in reply.text and "内部エラー" not in reply.text
    assert "script-src 'none'" in reply.headers["content-security-policy"]
