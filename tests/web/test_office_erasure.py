"""The erasure pages: officer requests and signs, manager reviews and signs, officer executes
(streamed), manager confirms; downloads verify offline; refusals shown on the page."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import Session, func, select

from survey import accounts, staff_keys
from survey.db import Database
from survey.erasure.verify import verify_certificate
from survey.models import RosterUnit
from tests.conftest import Issued
from tests.web.office_helpers import PASSWORD, csrf, hold_key_ceremony, log_in, make_staff

Client = TestClient[Litestar]


def erasure_staff(db: Database) -> None:
    make_staff(db, mia=["manager"], olive=["officer"])
    hold_key_ceremony(db, "mia")
    with db.session() as session:
        olive, mia = accounts.require_user(session, "olive"), accounts.require_user(session, "mia")
        staff_keys.confirm_key(
            session, staff_keys.active_key(session, olive), mia, datetime.now(UTC)
        )


def as_owner(office: Client) -> None:
    """On PostgreSQL the fixture's superuser stands in for the tables' owner (VACUUM FULL)."""
    state = office.app.state.office
    if not state.settings.is_sqlite:
        url = state.settings.database_url
        state.settings = replace(state.settings, owner_database_url=url)


def request_id_of(reply) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r"/office/erasure/([0-9a-f]{32})", str(reply.url))
    assert match is not None, reply.text
    return match.group(1)


def test_the_erasure_pages_from_request_to_confirmed_certificate(
    issued: Issued, office: Client
) -> None:
    erasure_staff(issued.db)
    as_owner(office)
    log_in(office, "olive")
    page = office.get("/office/studies/default/erasure")
    assert page.status_code == 200 and "消去を依頼する" in page.text
    reply = office.post(
        "/office/studies/default/erasure",
        data={"csrf_token": csrf(office), "scope": "personal"},
        files={"vendor": ("vendor-confirmation.pdf", b"%PDF-1.4 signed by the vendor")},
    )
    request_id = request_id_of(reply)
    shown = office.get(f"/office/erasure/{request_id}").text
    assert "抽出名簿" in shown and "コード票" in shown and "名簿鍵" in shown
    assert str(issued.settings.data_dir) not in shown and str(issued.settings.key_dir) not in shown
    assert "vendor-confirmation.pdf" in shown
    path = f"/office/erasure/{request_id}/sign"
    wrong = office.post(path, data={"csrf_token": csrf(office), "password": "not it at all"})
    assert wrong.status_code == 403
    signed = office.post(path, data={"csrf_token": csrf(office), "password": PASSWORD})
    assert signed.status_code == 200 and "あなたはすでに署名しました" in signed.text
    office.cookies.clear()
    log_in(office, "mia")
    signed = office.post(path, data={"csrf_token": csrf(office), "password": PASSWORD})
    assert "消去を実施する" not in signed.text  # only an officer executes
    office.cookies.clear()
    log_in(office, "olive")
    execute = office.post(
        f"/office/erasure/{request_id}/execute",
        data={"csrf_token": csrf(office), "password": PASSWORD, "check_printouts": "1"},
    )
    assert execute.status_code == 200 and "消去を実施しました。漏れの確認: 問題なし" in execute.text
    with Session(issued.db.engine) as session:
        assert session.exec(select(func.count()).select_from(RosterUnit)).one() == 0
    first = office.get(f"/office/erasure/{request_id}/certificate.json")
    assert first.headers["content-type"].startswith("application/json")
    assert verify_certificate(first.content).stage == "executed"
    office.cookies.clear()
    log_in(office, "mia")
    done = office.post(
        f"/office/erasure/{request_id}/confirm",
        data={"csrf_token": csrf(office), "password": PASSWORD},
    )
    assert done.status_code == 200 and "責任者が確認済みです" in done.text
    second = office.get(f"/office/erasure/{request_id}/confirmed.json").content
    assert verify_certificate(second).stage == "confirmed"
    assert office.get(f"/office/erasure/{request_id}/certificate.json").content == first.content
    pdf = office.get(f"/office/erasure/{request_id}/confirmed.pdf")
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    assert office.get(f"/office/erasure/{request_id}/other.txt").status_code == 404


def test_a_refusal_is_shown_on_the_page_and_changes_nothing(issued: Issued, office: Client) -> None:
    erasure_staff(issued.db)
    log_in(office, "olive")
    reply = office.post(
        "/office/studies/default/erasure", data={"csrf_token": csrf(office), "scope": "personal"}
    )
    request_id = request_id_of(reply)
    office.post(
        f"/office/erasure/{request_id}/sign",
        data={"csrf_token": csrf(office), "password": PASSWORD},
    )
    execute = office.post(
        f"/office/erasure/{request_id}/execute",
        data={"csrf_token": csrf(office), "password": PASSWORD},
    )
    assert "2人の署名が必要です" in execute.text
    with Session(issued.db.engine) as session:
        assert session.exec(select(func.count()).select_from(RosterUnit)).one() == 130
