"""The whole erasure in real Chromium: the officer requests and signs, the manager reviews
and signs, the officer executes (streamed), the manager confirms, and the certificate
downloaded from the page verifies offline, with no database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.conftest import Issued
from tests.web.office_helpers import PASSWORD
from tests.web.test_office_erasure import erasure_staff

SHOTS = os.environ.get("SURVEY_SCREENSHOTS")  # a folder: save each page at 360 and 1280 px


def shoot(page: Page, name: str) -> None:
    if not SHOTS:
        return
    for width in (360, 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(Path(SHOTS) / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def log_in(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/office/login")
    page.fill("#username", name)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/office/")


def log_out(page: Page) -> None:
    page.get_by_role("button", name="ログアウト").click()


# One browser run covers the pages; the database work runs on both backends in
# tests/erasure and tests/web/test_office_erasure.py.
@pytest.mark.sqlite_only
def test_the_two_person_erasure_in_chromium(
    browser: Browser, issued: Issued, live_both: str, tmp_path: Path
) -> None:
    erasure_staff(issued.db)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    log_in(page, live_both, "olive")
    page.click("text=概要")
    page.click("text=個人情報の消去")
    shoot(page, "erasure-list")
    page.get_by_role("button", name="消去を依頼する").click()
    page.wait_for_selector("text=署名待ち")
    request_url = page.url
    page.fill("#pw-sign", PASSWORD)
    page.get_by_role("button", name="一覧を確認して署名する").click()
    page.wait_for_selector("text=あなたはすでに署名しました")
    log_out(page)
    log_in(page, live_both, "mia")
    page.goto(request_url)
    assert page.locator("text=抽出名簿").count() and page.locator("text=名簿鍵").count()
    shoot(page, "erasure-review")
    page.fill("#pw-sign", PASSWORD)
    page.get_by_role("button", name="一覧を確認して署名する").click()
    page.wait_for_selector("text=あなたはすでに署名しました")
    log_out(page)
    log_in(page, live_both, "olive")
    page.goto(request_url)
    page.check("input[name=check_spare_labels_slips]")
    shoot(page, "erasure-execute")
    page.fill("#pw-execute", PASSWORD)
    page.get_by_role("button", name="消去を実施する").click()
    page.wait_for_selector("text=漏れの確認: 問題なし", timeout=60_000)
    shoot(page, "erasure-streamed")
    page.click("text=消去の依頼の画面へ戻る")
    log_out(page)
    log_in(page, live_both, "mia")
    page.goto(request_url)
    page.fill("#pw-confirm", PASSWORD)
    page.get_by_role("button", name="消去を確認して署名する").click()
    page.wait_for_selector("text=責任者が確認済みです")
    shoot(page, "erasure-confirmed")
    with page.expect_download() as info:
        page.click("text=確認済みの証明書（JSON・正本）")
    saved = tmp_path / "offline" / info.value.suggested_filename
    saved.parent.mkdir()
    info.value.save_as(saved)
    context.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    env |= {
        "SURVEY_DATA_DIR": str(tmp_path / "none" / "var"),
        "SURVEY_KEY_DIR": str(tmp_path / "none" / "keys"),
    }
    exe = Path(sys.executable).parent / "survey"
    done = subprocess.run(
        [str(exe), "erasure", "verify", str(saved)], env=env, capture_output=True, text=True,
        cwd=saved.parent, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "確認済み" in done.stdout and "署名は有効、署名者は未確認" in done.stdout
    assert not (tmp_path / "none").exists()
