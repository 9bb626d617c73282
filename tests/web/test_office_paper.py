"""The officers' paper pages: receipts, keying by two officers, reconciliation, rates; the
keying form without script; the whole flow by keyboard in real Chromium."""

from __future__ import annotations

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from playwright.sync_api import Browser
from sqlmodel import Session, select

from survey.ingest import dataset
from survey.models import AuditEntry, PaperReceipt, Response
from tests.conftest import Issued
from tests.web.office_helpers import PASSWORD, csrf, log_in, make_staff

Client = TestClient[Litestar]
BASE = "/office/studies/default/paper"


def receive(office: Client, count: int = 1, **extra: str) -> str:
    form = {"cohort": "general", "status": "returned", "batch": "6月3日便", "count": str(count),
            "day": "2026-06-03", **extra}  # fmt: skip
    reply = office.post(f"{BASE}/receipts", data={"csrf_token": csrf(office, BASE), **form})
    assert reply.status_code == 200
    return reply.text


def key(office: Client, no: str, code: str, **values: str) -> str:
    data = {"csrf_token": csrf(office, f"{BASE}/key/{no}"), "code": code}
    data.update({f"v_{k}": v for k, v in values.items()})
    reply = office.post(f"{BASE}/key/{no}", data=data)
    assert reply.status_code == 200
    return reply.text


def test_receipts_double_entry_and_reconciliation(issued: Issued, office: Client) -> None:
    make_staff(issued.db, alice=["officer"], bob=["officer"])
    log_in(office, "alice")
    assert "受付番号 000001–000002" in receive(office, 2)
    assert "不達・対象外には理由" not in receive(
        office, 1, status="undeliverable", reason="宛先不明"
    )
    page = office.get(BASE).text
    assert "<td>2</td><td>0</td><td>1</td>" in page  # received, blank, undeliverable
    form = office.get(f"{BASE}/key/000001")
    assert form.status_code == 200 and "問1" in form.text and "判読不能" in form.text
    assert "script-src 'none'" in form.headers["content-security-policy"]
    code = issued.codes["general"][0]
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    refused = key(office, "000001", wrong, sex="2", k6_1="3")
    # Nothing lost: the values typed come back with the message.
    assert "アクセスコードを確認してください" in refused and 'value="3"' in refused
    assert "1 回目の入力を保存しました" in key(office, "000001", code, sex="2", k6_1="3")
    assert "別の職員" in key(office, "000001", code, sex="2", k6_1="3")  # alice again: refused
    log_in(office, "bob")
    second = office.get(f"{BASE}/key/000001").text
    assert 'value="3"' not in second  # the second officer never sees the first entry
    assert "2 項目で一致しません" not in key(office, "000001", code, sex="2", k6_1="4")
    page = office.get(BASE).text
    assert "照合待ち（1 件）" in page
    reconcile = office.get(f"{BASE}/reconcile/000001").text
    assert "k6_1" in reconcile and "<td>3</td><td>4</td>" in reconcile
    done = office.post(
        f"{BASE}/reconcile/000001",
        data={"csrf_token": csrf(office, f"{BASE}/reconcile/000001"), "v_k6_1": "3"},
    )
    assert "受理しました" in done.text
    with Session(issued.db.engine) as session:
        (response,) = session.exec(select(Response)).all()
        assert response.channel == "paper" and response.answers["k6_1"] == 3
        actions = {e.action for e in session.exec(select(AuditEntry)).all()}
    assert {"paper.receive", "paper.key", "paper.reconcile"} <= actions
    rates = office.get(f"{BASE}/operators").text
    assert "bob" in rates and "alice" in rates


def keyboard_entry(page, base: str, name: str, code: str, sex: str) -> None:  # type: ignore[no-untyped-def]
    """An officer logs in, opens the sheet by its receipt number and keys it by keyboard."""
    page.goto(f"{base}/office/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/office/")
    page.click("text=紙の調査票")
    page.fill("#no", "000001")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=用紙の入力: 受付番号 000001")
    page.keyboard.type(code)  # the code field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type(sex)  # 問1
    page.keyboard.press("Tab")
    page.keyboard.type("5")  # 問2
    page.keyboard.press("Enter")  # Enter sends the sheet
    page.wait_for_selector("text=受付番号 000001:")


@pytest.mark.sqlite_only  # one browser run covers the pages; the database work is tested above
def test_two_officers_key_one_sheet_in_chromium(
    browser: Browser, issued: Issued, live_both: str
) -> None:
    make_staff(issued.db, alice=["officer"], bob=["officer"])
    code = issued.codes["general"][0]
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_both}/office/login")
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_both}/office/")
    page.click("text=紙の調査票")
    page.select_option("#cohort", "general")  # the label's tag says which cohort
    page.fill("#batch", "6月3日便")
    page.get_by_role("button", name="受付する（受付番号を発行）").click()
    page.wait_for_selector("text=受付番号 000001")
    context.close()
    for name, sex in (("alice", "1"), ("bob", "2")):  # one field differs
        context = browser.new_context()
        keyboard_entry(context.new_page(), live_both, name, code, sex)
        context.close()
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_both}/office/login")
    page.fill("#username", "alice")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_both}/office/")
    page.click("text=紙の調査票")
    page.click("text=受付番号 000001 を照合する")
    page.wait_for_selector("text=照合: 受付番号 000001")
    page.locator("tbody input").first.fill("2")
    page.get_by_role("button", name="決定して受理する").click()
    page.wait_for_selector("text=受理しました")
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_both}{BASE}/key/000001")  # done: back on the paper page, said so
        page.screenshot(path=str(issued.settings.data_dir / f"paper-{width}.png"), full_page=True)
    context.close()
    with Session(issued.db.engine) as session:
        row = session.exec(select(PaperReceipt)).one()
        assert row.state == "accepted"
    dataset.build(issued.db.engine, "default")
    with Session(issued.db.engine) as session:
        df = dataset.frame(
            session, session.exec(select(__import__("survey.models").models.Study)).one()
        )
    assert (
        list(df["channel"]) == ["paper"] and list(df["sex"]) == [2] and list(df["age_band"]) == [5]
    )
