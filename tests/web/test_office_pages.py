"""Office pages: create a study, upload the register and draw in one request, download print
files with password re-entry, the response-rate dashboard, accounts and key confirmation."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import text
from sqlmodel import Session, col, select

from survey.collector.intake import Intake
from survey.db import Database
from survey.models import AuditEntry, Draw, StaffKey, StaffSession, StaffUser, TrackedFile
from tests.conftest import SMALL_ALLOCATION, Issued, Row
from tests.helpers import STUDY_PUBLIC_KEY, carry_to_office, seal
from tests.web.office_helpers import PASSWORD, csrf, hold_key_ceremony, log_in, make_staff

Client = TestClient[Litestar]


def actions(db: Database) -> list[tuple[str, str]]:
    with Session(db.engine) as session:
        rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq))).all()
    return [(e.actor, e.action) for e in rows]


def create_study(office: Client, name: str = "shiki") -> None:
    data = {"name": name, "as_of": "2026-04-01", "csrf_token": csrf(office)}
    assert office.post("/office/studies", data=data, follow_redirects=False).status_code == 303


def upload(office: Client, name: str, register: bytes, password: str = PASSWORD) -> str:
    token = csrf(office, f"/office/studies/{name}")
    reply = office.post(
        f"/office/studies/{name}/draw",
        data={"csrf_token": token, "password": password, "allocation": SMALL_ALLOCATION},
        files={"register": ("register.csv", register, "text/csv")},
    )
    assert reply.status_code == 200, reply.text
    return reply.text


def test_upload_and_draw_in_one_request_without_writing_the_file(
    office: Client, db: Database, synth_register: Path, tmp_path: Path
) -> None:
    make_staff(db, olive=["officer"])
    log_in(office, "olive")
    create_study(office)
    before = {p for p in db.settings.data_dir.rglob("*")}
    data = synth_register.read_bytes()
    page = upload(office, "shiki", data)
    assert "抽出が完了しました" in page and "読込 read: 100%" in page
    assert re.search(r"一般市民</th><td>[\d,]+</td>", page)
    with Session(db.engine) as session:
        draw = session.exec(select(Draw)).one()
    assert sum(draw.sample.values()) == 130
    after = {p for p in db.settings.data_dir.rglob("*")}
    new_files = [
        p for p in after - before if p.is_file() and not p.name.startswith("survey.sqlite3")
    ]
    assert new_files == []  # the upload was never written to disk
    assert ("user:olive", "register.draw") in actions(db)
    # A second draw is refused, with the reason on the streamed page.
    assert "すでに抽出済み" in upload(office, "shiki", data)


def test_a_bad_register_lists_its_errors_and_draws_nothing(
    office: Client, db: Database, register_file
) -> None:  # type: ignore[no-untyped-def]
    make_staff(db, olive=["officer"])
    log_in(office, "olive")
    create_study(office)
    rows = [Row("1", "h1", "1980-02-30"), Row("2", "h1", "1981-01-01", sex="X")]
    page = upload(office, "shiki", register_file(rows).read_bytes())
    assert "誤りが 2 件" in page and "生年月日" in page and "性別" in page
    assert "志木　太郎" not in page  # names never in a message
    with Session(db.engine) as session:
        assert session.exec(select(Draw)).first() is None


def test_the_upload_limit_is_raised_for_that_route_only(office: Client, db: Database) -> None:
    make_staff(db, olive=["officer"])
    log_in(office, "olive")
    create_study(office)
    big = {"name": "x" * (2 * 1024 * 1024), "csrf_token": csrf(office)}
    assert office.post("/office/studies", data=big).status_code == 413
    reply = office.post(  # 2 MB passes this route's limit and reaches the password check
        "/office/studies/shiki/draw",
        data={"csrf_token": csrf(office), "password": "not it"},
        files={"register": ("register.csv", b"x" * (2 * 1024 * 1024), "text/csv")},
    )
    assert reply.status_code == 403 and "パスワード" in reply.text


def test_print_files_need_the_password_again_and_are_audited(
    issued: Issued, office: Client
) -> None:
    make_staff(issued.db, olive=["officer"])
    log_in(office, "olive")
    path = "/office/studies/default/files/labels"
    wrong = office.post(path, data={"csrf_token": csrf(office), "password": "not it"})
    assert wrong.status_code == 403
    # No user name was typed: the message says the password, on a page with the menu and a
    # way back to the study, not a dead end.
    assert "パスワードが違います（宛名ラベル）。" in wrong.text and "ユーザー名" not in wrong.text
    assert '<nav aria-label="メニュー">' in wrong.text and "ログアウト" in wrong.text
    assert '<a href="/office/studies/default">調査の画面へ戻る</a>' in wrong.text
    reply = office.post(path, data={"csrf_token": csrf(office), "password": PASSWORD})
    assert reply.status_code == 200 and reply.content.startswith(b"%PDF")
    assert "attachment" in reply.headers["content-disposition"]
    with Session(issued.db.engine) as session:
        tracked = session.exec(select(TrackedFile).where(TrackedFile.kind == "labels")).all()
    assert len(tracked) == 1 and Path(tracked[0].path).read_bytes() == reply.content
    assert ("user:olive", "reauth.failed") in actions(issued.db)
    assert ("user:olive", "file.labels") in actions(issued.db)
    # Codes were issued already: slips cannot be printed again, only new spares.
    again = office.post(
        "/office/studies/default/files/slips",
        data={"csrf_token": csrf(office), "password": PASSWORD},
    )
    assert again.status_code == 400 and "再印刷" in again.text
    spares = office.post(
        "/office/studies/default/files/slips",
        data={"csrf_token": csrf(office), "password": PASSWORD, "additional": "2"},
    )
    assert spares.status_code == 200 and spares.content.startswith(b"%PDF")


def submit_days(issued: Issued, plan: dict[str, list[int]]) -> None:
    """``plan[cohort][i]``: answers arriving on day i of fieldwork (from 2026-06-01)."""
    used: dict[str, int] = {}
    for cohort, per_day in plan.items():
        for offset, n in enumerate(per_day):
            day = date(2026, 6, 1) + timedelta(days=offset)
            intake = Intake(issued.db.engine, issued.settings, "default", clock=lambda d=day: d)
            for _ in range(n):
                code = issued.codes[cohort][used.get(cohort, 0)]
                used[cohort] = used.get(cohort, 0) + 1
                intake.submit(code, seal(STUDY_PUBLIC_KEY, intake.check(code).form, {}))
    # The dashboard counts what the office holds: the answers travel in a bundle.
    out = issued.settings.data_dir / "bundle-test.json"
    assert carry_to_office(issued.db.engine, issued.settings, out) == sum(map(sum, plan.values()))


def test_dashboard_figures_chart_and_csv(issued: Issued, office: Client) -> None:
    submit_days(
        issued, {"general": [5, 3, 0, 2], "high_school": [1, 0, 4], "elementary_guardian": [12]}
    )
    make_staff(issued.db, olive=["officer"], ann=["analyst"])
    log_in(office, "olive")
    page = office.get("/office/studies/default/dashboard")
    assert page.status_code == 200 and "回答率" in page.text
    chart = office.get("/office/studies/default/dashboard.png")
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
    reply = office.get("/office/studies/default/dashboard.csv")
    assert reply.content.startswith("\ufeff".encode())
    rows = {r["cohort"]: r for r in csv.DictReader(io.StringIO(reply.content.decode("utf-8-sig")))}
    # The fixture: 50 general, 20 of each other cohort sampled (tests/conftest.py).
    assert rows["general"] | {} == {
        "cohort": "general",
        "cohort_label": "一般市民",
        "sampled": "50",
        "undeliverable": "0",
        "eligible": "50",
        "paper": "0",
        "web": "10",
        "total": "10",
        "response_rate": "0.2000",
    }
    assert rows["high_school"]["web"] == "5" and rows["high_school"]["response_rate"] == "0.2500"
    assert rows["elementary_guardian"]["response_rate"] == "0.6000"
    assert rows["junior_high"]["web"] == "0"  # paper only
    assert rows["overall"]["sampled"] == "130" and rows["overall"]["web"] == "27"
    assert rows["overall"]["response_rate"] == f"{27 / 130:.4f}"
    assert ("user:olive", "file.dashboard_csv") in actions(issued.db)
    log_in(office, "ann")
    refused = office.get("/office/studies/default/dashboard")
    assert refused.status_code == 403 and '<nav aria-label="メニュー">' in refused.text


def test_cumulative_counts_by_day(issued: Issued) -> None:
    from survey.fieldwork import fieldwork
    from survey.models import Study

    submit_days(issued, {"general": [2, 0, 3]})
    with Session(issued.db.engine) as session:
        work = fieldwork(session, session.exec(select(Study)).one())
    assert work.cumulative("general") == [
        (date(2026, 6, 1), 2),
        (date(2026, 6, 2), 2),
        (date(2026, 6, 3), 5),
    ]


def change_own_password(office: Client, old: str, new: str) -> Any:
    data = {"csrf_token": csrf(office, "/office/account"), "password": old}
    data |= {"new_password": new, "confirm_password": new}
    return office.post("/office/account/password", data=data, follow_redirects=False)


def test_accounts_pages_forced_first_change_and_key_confirmation(
    office: Client, db: Database
) -> None:
    make_staff(db, ada=["admin"], mia=["manager"])
    hold_key_ceremony(db, "mia")
    log_in(office, "ada")
    add = {"csrf_token": csrf(office), "name": "olive", "role_officer": "1"}
    add["new_password"] = "first password for the new officer"  # noqa: S105
    assert office.post("/office/admin/users", data=add, follow_redirects=False).status_code == 303
    weak = {**add, "name": "oscar", "new_password": "password"}
    assert office.post("/office/admin/users", data=weak).status_code == 400
    # No admin holds a signing role: not on creation, not by a role change (her own included).
    both = {**add, "name": "oscar", "role_admin": "1"}
    refused = office.post("/office/admin/users", data=both)
    assert refused.status_code == 400 and "兼ねられません" in refused.text
    mine = {"csrf_token": csrf(office), "role_admin": "1", "role_manager": "1"}
    assert office.post("/office/admin/users/ada/roles", data=mine).status_code == 400
    with Session(db.engine) as session:
        ada = session.exec(select(StaffUser).where(StaffUser.name == "ada")).one()
        assert ada.roles == ["admin"]
        assert session.exec(select(StaffUser).where(StaffUser.name == "oscar")).first() is None

    # Olive's first login: nothing but choosing her own password until she has.
    reply = log_in(office, "olive", "first password for the new officer")
    assert reply.headers["location"] == "/office/account"
    assert office.get("/office/", follow_redirects=False).headers["location"] == "/office/account"
    assert "自分のパスワードを設定" in office.get("/office/account").text
    assert (
        change_own_password(office, "first password for the new officer", PASSWORD).status_code
        == 303
    )
    assert office.get("/office/", follow_redirects=False).status_code == 200

    log_in(office, "ada")
    reset = {"csrf_token": csrf(office), "new_password": "a reset password 2026"}
    reply = office.post("/office/admin/users/olive/reset", data=reset, follow_redirects=False)
    assert reply.status_code == 303
    with Session(db.engine) as session:
        olive = session.exec(select(StaffUser).where(StaffUser.name == "olive")).one()
        assert olive.must_change
        assert (
            session.exec(select(StaffSession).where(StaffSession.user_id == olive.id)).all() == []
        )
    log_in(office, "olive", "a reset password 2026")
    assert (
        change_own_password(office, "a reset password 2026", "her own choice, 2026!").status_code
        == 303
    )
    with Session(db.engine) as session:
        key = session.exec(
            select(StaffKey).where(
                col(StaffKey.active).is_(True),
                col(StaffKey.confirmed).is_(False),
                StaffKey.user_id == olive.id,
            )
        ).one()
    assert key.fingerprint in office.get("/office/account").text  # to read out to a manager

    log_in(office, "mia")
    keys_page = office.get("/office/keys").text
    assert "<h2>olive</h2>" in keys_page and "password_hash" not in keys_page
    wrong = {"csrf_token": csrf(office), "fingerprint": "AAAA-BBBB"}
    assert office.post(f"/office/keys/{key.id}/confirm", data=wrong).status_code == 400
    right = {"csrf_token": csrf(office), "fingerprint": key.fingerprint.lower()}
    reply = office.post(f"/office/keys/{key.id}/confirm", data=right, follow_redirects=False)
    assert reply.status_code == 303
    with Session(db.engine) as session:
        confirmed = session.get(StaffKey, key.id)
        assert confirmed is not None and confirmed.confirmed and confirmed.confirmed_at
    log = actions(db)
    assert ("user:ada", "user.add") in log and ("user:ada", "user.reset") in log
    assert ("user:mia", "user.key_confirm") in log
    audit_page = office.get("/office/audit?action=user.")
    assert audit_page.status_code == 200 and "user.key_confirm" in audit_page.text
    assert "login.ok" not in audit_page.text  # the filter applies


def test_a_wrong_current_password_counts_towards_the_lockout(office: Client, db: Database) -> None:
    make_staff(db, olive=["officer"])
    log_in(office, "olive")
    for _ in range(5):
        assert (
            change_own_password(office, "not my password", "another password 2026").status_code
            == 403
        )
    assert office.get("/office/", follow_redirects=False).status_code == 303  # locked out
    assert log_in(office, "olive").status_code == 401


def test_the_keys_page_says_who_may_not_confirm_which_key(office: Client, db: Database) -> None:
    from survey import accounts

    make_staff(db, mia=["manager"], max=["manager"], ada=["admin"])
    hold_key_ceremony(db, "mia")
    with db.session() as session:  # Mia creates Olive's account (before a role change, say)
        mia = accounts.require_user(session, "mia")
        accounts.add_user(session, "olive", ["officer"], PASSWORD, by=mia, must_change=False)
    olive_key, max_key = key_of(db, "olive"), key_of(db, "max")
    log_in(office, "max")  # a manager whose own key is not confirmed yet
    assert "あなたの署名鍵はまだ確認されていません" in office.get("/office/keys").text
    data = {"csrf_token": csrf(office), "fingerprint": olive_key.fingerprint}
    refused = office.post(f"/office/keys/{olive_key.id}/confirm", data=data)
    assert refused.status_code == 400 and "確認してもらって" in refused.text
    log_in(office, "mia")
    page = office.get("/office/keys").text
    assert "作成した人" in page  # Mia created Olive's account: no form for that key
    assert f"/office/keys/{olive_key.id}/confirm" not in page
    assert f"/office/keys/{max_key.id}/confirm" in page
    data = {"csrf_token": csrf(office), "fingerprint": olive_key.fingerprint}
    assert office.post(f"/office/keys/{olive_key.id}/confirm", data=data).status_code == 400
    data = {"csrf_token": csrf(office), "fingerprint": max_key.fingerprint}
    ok = office.post(f"/office/keys/{max_key.id}/confirm", data=data, follow_redirects=False)
    assert ok.status_code == 303
    log_in(office, "max")  # now confirmed, Max may vouch for Olive
    data = {"csrf_token": csrf(office), "fingerprint": olive_key.fingerprint}
    ok = office.post(f"/office/keys/{olive_key.id}/confirm", data=data, follow_redirects=False)
    assert ok.status_code == 303


def key_of(db: Database, name: str) -> StaffKey:
    with Session(db.engine) as session:
        user = session.exec(select(StaffUser).where(StaffUser.name == name)).one()
        return session.exec(
            select(StaffKey).where(StaffKey.user_id == user.id, col(StaffKey.active).is_(True))
        ).one()


def test_an_upload_holds_one_file(office: Client, db: Database) -> None:
    make_staff(db, olive=["officer"])
    log_in(office, "olive")
    create_study(office)
    token = csrf(office, "/office/studies/shiki")
    files = [("register", ("a.csv", b"x", "text/csv")), ("again", ("b.csv", b"y", "text/csv"))]
    reply = office.post(
        "/office/studies/shiki/draw", data={"csrf_token": token, "password": PASSWORD}, files=files
    )
    assert reply.status_code == 400 and "1つだけ" in reply.text
    no_file = office.post(
        "/office/studies/shiki/draw", data={"csrf_token": token, "password": PASSWORD}
    )
    assert no_file.status_code == 400 and "ファイルを選んで" in no_file.text
    assert ("user:olive", "register.draw") not in actions(db)


def test_two_downloads_in_the_same_second_do_not_collide(issued: Issued, office: Client) -> None:
    make_staff(issued.db, olive=["officer"])
    log_in(office, "olive")
    path = "/office/studies/default/files/labels"
    replies = [
        office.post(path, data={"csrf_token": csrf(office), "password": PASSWORD})
        for _ in range(2)  # the test clock stands still: the same second for both
    ]
    assert [r.status_code for r in replies] == [200, 200], replies[1].text
    with Session(issued.db.engine) as session:
        tracked = session.exec(select(TrackedFile).where(TrackedFile.kind == "labels")).all()
    assert len({t.path for t in tracked}) == 2
    assert all(
        Path(t.path).read_bytes() == r.content for t, r in zip(tracked, replies, strict=True)
    )


def test_no_server_path_in_a_message_on_a_page(
    issued: Issued, office: Client, monkeypatch: Any
) -> None:
    from survey.errors import UsageError
    from survey.web.office import studies

    data_dir = str(issued.settings.data_dir.resolve())

    def refuse(*_args: Any, **_kw: Any) -> Any:
        raise UsageError(f"{data_dir}/exports/x/labels.pdf はすでにあります。", "exists")

    monkeypatch.setattr(studies, "print_labels", refuse)
    make_staff(issued.db, olive=["officer"])
    log_in(office, "olive")
    reply = office.post(
        "/office/studies/default/files/labels",
        data={"csrf_token": csrf(office), "password": PASSWORD},
    )
    assert reply.status_code == 400 and "はすでにあります" in reply.text
    assert data_dir not in reply.text and "/exports/" not in reply.text


def test_paths_are_taken_out_of_messages(office_app: Litestar) -> None:
    from survey.web.office.common import HIDDEN_PATH, without_paths

    office = office_app.state.office
    root = office.settings.data_dir
    for message, shown in (
        (f"{root}/exports/x/labels.pdf はすでにあります", f"{HIDDEN_PATH} はすでにあります"),
        ("/srv/survey/var/x.pdf はすでにあります。", f"{HIDDEN_PATH} はすでにあります。"),
        ("ファイル「/etc/survey/k.json」がありません", f"ファイル「{HIDDEN_PATH}」がありません"),
    ):
        assert without_paths(message, office) == shown
    for kept in ("回答率 12.5% (N/A は未回答)", "2026/06/10 に抽出しました", "指紋 AB12-CD34"):
        assert without_paths(kept, office) == kept


def test_the_audit_page_shows_the_current_head_to_record(office: Client, db: Database, run) -> None:  # type: ignore[no-untyped-def]
    make_staff(db, mia=["manager"])
    log_in(office, "mia")
    head = run("audit", "head").stdout.strip()  # what `survey audit head` prints
    page = office.get("/office/audit?action=file.")  # a filter does not change the head
    assert page.status_code == 200 and "login.ok" not in page.text
    assert f'<code id="audit-head">{head}</code>' in page.text
    assert "議事録" in page.text and "改ざん" in page.text
    # A broken chain: the page still shows the head as stored, beside the alarm.
    on = " ON audit_entry" if db.engine.dialect.name == "postgresql" else ""
    with db.engine.begin() as conn:
        conn.execute(text(f"DROP TRIGGER audit_entry_no_update{on}"))
        conn.execute(text("UPDATE audit_entry SET actor = 'user:mallory' WHERE seq = 1"))
    broken = office.get("/office/audit")
    assert "1 番目の項目で鎖が切れています" in broken.text
    assert f'<code id="audit-head">{head}</code>' in broken.text


@pytest.mark.filterwarnings("ignore:The base_url .* might cause issues")  # litestar's hint
def test_the_login_page_says_when_plain_http_cannot_work(office_app: Litestar) -> None:
    """The session cookie is Secure: over plain HTTP a browser keeps it for localhost only,
    so on any other host the login would silently fail. The page says so, and what to do."""
    for base, warned in (
        ("http://office.city.example", True),
        ("http://192.168.10.5:8000", True),
        ("https://office.city.example", False),
        ("http://127.0.0.1:8000", False),
        ("http://localhost:8000", False),
    ):
        with TestClient(office_app, base_url=base) as client:
            page = client.get("/office/login").text
        assert ("この接続ではログインできません" in page) is warned, base
        if warned:
            assert "https://" in page and "http://localhost:" in page
