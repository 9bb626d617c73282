"""End to end in real Chromium: an officer logs in to the office, reads the response-rate
dashboard and downloads its CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.conftest import Issued, require_program
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, chromium_available
from tests.web.office_helpers import PASSWORD, make_staff
from tests.web.test_office_pages import submit_days


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_program("Chromium (/usr/bin/chromium)", chromium_available())
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_an_officer_reads_the_dashboard_and_downloads_the_csv(
    browser: Browser, issued: Issued, live_both: str
) -> None:
    submit_days(issued, {"general": [4, 2, 1], "high_school": [2]})
    make_staff(issued.db, olive=["officer"])
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(f"{live_both}/office/")
    assert page.url.endswith("/office/login")  # not logged in: sent to the login page
    page.fill("#username", "olive")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_both}/office/")
    cookie = next(c for c in context.cookies() if c["name"] == "survey_office")
    assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/office"
    page.click("text=回答状況")
    page.wait_for_url(f"{live_both}/office/studies/default/dashboard")
    general = page.locator("tr", has=page.locator("th", has_text="一般市民"))
    assert "14.0%" in general.inner_text()  # 7 of 50
    chart_ok = page.evaluate(
        "() => { const i = document.querySelector('figure img'); "
        "return i.complete && i.naturalWidth > 0; }"
    )
    assert chart_ok
    with page.expect_download() as info:
        page.click("text=CSV をダウンロード")
    download = info.value
    assert download.suggested_filename == "response-rates-default.csv"
    path = download.path()
    rows = {r["cohort"]: r for r in csv.DictReader(io.StringIO(path.read_text("utf-8-sig")))}
    assert rows["general"]["web"] == "7" and rows["high_school"]["web"] == "2"
    assert rows["overall"]["total"] == "9"
    context.close()
