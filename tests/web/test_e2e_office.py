"""End to end in real Chromium: an officer logs in to the office, reads the response-rate
dashboard and downloads its CSV; every office page fits a phone (360 px) and a desktop
(1280 px) with no horizontal overflow and no console error, in Japanese staff words."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from survey.study import update_settings
from tests.conftest import SMALL_ALLOCATION, Issued
from tests.web.office_helpers import PASSWORD, hold_key_ceremony, make_staff
from tests.web.test_office_pages import submit_days

ARTIFACTS = Path(os.environ.get("SURVEY_TEST_ARTIFACTS", "build/test-artifacts"))
WIDTHS = {"phone": {"width": 360, "height": 740}, "desktop": {"width": 1280, "height": 800}}


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


def console_errors(page: Page) -> list[str]:
    """The console errors and uncaught exceptions of a page, as they happen."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def log_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/office/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/office/**")


def check_fits(page: Page, shot: str, errors: list[str], status: int = 200) -> None:
    """No part of the page wider than the screen, no console error (but the page's own
    status, when it is an error page); a screenshot to look at."""
    own = f"the server responded with a status of {status}"
    errors[:] = [e for e in errors if status == 200 or own not in e]
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], (shot, widths)
    # No column one character wide: no cell's text breaks into lines of one or two
    # characters (as 乳 / 幼 / 児 did), counted from its rendered line boxes.
    narrow = page.evaluate(
        """() => [...document.querySelectorAll('td, th, caption')].filter((c) => {
          const text = c.textContent.replace(/\\s+/g, '');
          if (c.offsetParent === null || text.length <= 2) return false;
          const range = document.createRange();
          range.selectNodeContents(c);
          const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
          return tops.size > Math.ceil(text.length / 3);
        }).map((c) => c.textContent.trim().slice(0, 20))"""
    )
    assert narrow == [], (shot, narrow)
    assert errors == [], (shot, errors)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"office-{shot}.png"), full_page=True)


# Chromium at two widths over a dozen pages takes a while; the pages read the same rows on
# either database (the office tests run on both), so this runs on SQLite only.
@pytest.mark.sqlite_only
def test_every_office_page_fits_a_phone_and_a_desktop(
    browser: Browser, issued: Issued, live_both: str, synth_register: Path
) -> None:
    submit_days(issued, {"general": [5, 3, 0, 2], "high_school": [1, 0, 4]})
    make_staff(issued.db, olive=["officer"], mia=["manager"], ada=["admin"], kai=["officer"])
    hold_key_ceremony(issued.db, "mia")
    with issued.db.session() as session:
        from survey.study import resolve_study

        study = resolve_study(session, "default")
        update_settings(session, study, [("response_targets", {"general": 0.35})])
    pages = {
        "olive": [
            ("home", "/office/", 200),
            ("study", "/office/studies/default", 200),
            ("dashboard", "/office/studies/default/dashboard", 200),
            ("account", "/office/account", 200),
            ("forbidden", "/office/audit", 403),
            ("not-found", "/office/studies/nowhere", 404),
        ],
        "mia": [("keys", "/office/keys", 200), ("audit", "/office/audit", 200)],
        "ada": [("users", "/office/admin/users", 200)],
    }
    for width, viewport in WIDTHS.items():
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        errors = console_errors(page)
        page.goto(f"{live_both}/office/login")
        check_fits(page, f"login-{width}", errors)
        for name, visits in pages.items():
            context.clear_cookies()
            log_in(page, live_both, name)
            for shot, path, status in visits:
                assert page.goto(live_both + path).status == status  # type: ignore[union-attr]
                check_fits(page, f"{shot}-{width}", errors, status)
                text = page.inner_text("body")
                # Staff words: no role codes, no UTC, no "future feature" on a staff page.
                assert "（今後の機能）" not in text and "UTC" not in text, shot
                if shot in ("forbidden", "not-found"):
                    assert page.locator("nav[aria-label='メニュー']").count() == 1, shot
        # A wrong password at a download: said plainly, on a page with the menu.
        context.clear_cookies()
        log_in(page, live_both, "olive")
        page.goto(f"{live_both}/office/studies/default")
        form = page.locator("form[action$='/files/labels']")
        form.locator("input[type=password]").fill("not my password")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("text=パスワードが違います")
        check_fits(page, f"wrong-password-{width}", errors, 403)
        # The draw's streamed page, from a fresh study (a phone too).
        context.clear_cookies()
        log_in(page, live_both, "kai")
        page.fill("#name", f"draw-{width}")
        page.fill("#as_of", "2026-04-01")
        page.click("form[action='/office/studies'] button[type=submit]")
        page.wait_for_url(f"{live_both}/office/studies/draw-{width}")
        page.set_input_files("#register", str(synth_register))
        page.fill("#allocation", SMALL_ALLOCATION)
        page.fill("#pw-draw", PASSWORD)
        page.click("form[action$='/draw'] button[type=submit]")
        page.wait_for_selector("text=抽出が完了しました", timeout=60_000)
        check_fits(page, f"draw-{width}", errors)
        assert page.locator("nav[aria-label='メニュー']").count() == 1
        context.close()
    # The audit page in words: roles, actions and objects, times in Japan Standard Time.
    context = browser.new_context(viewport=WIDTHS["phone"])
    page = context.new_page()
    log_in(page, live_both, "mia")
    page.goto(f"{live_both}/office/audit")
    text = page.inner_text("main")
    assert "住民基本台帳からの抽出" in text and "register.draw" in text  # the code kept too
    assert "宛名ラベル" not in text or "パスワード再入力の失敗" in text
    assert "{" not in page.inner_text("table.audit")  # fields, not JSON
    height = page.evaluate("document.documentElement.scrollHeight")
    rows = page.locator("table.audit tbody tr").count()
    assert height < 400 * rows + 2000, (height, rows)  # cards, not one-character columns
    page.goto(f"{live_both}/office/account")
    assert "役割: 責任者" in page.inner_text("main")
    context.close()
