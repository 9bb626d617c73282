"""End to end in real Chromium: a citizen opens the QR link on a phone, answers the whole
general form (with its skip logic), submits; the test opens the stored answer with the study
key and compares it with what was typed. Accessibility is audited with axe-core."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, expect, sync_playwright
from sqlmodel import Session, select

from survey.codes import display, normalize
from survey.collector.models import CollectorResponse
from survey.crypto import fingerprint
from tests.conftest import Issued, require_program
from tests.helpers import (
    CANARY,
    CHROMIUM,
    CHROMIUM_ARGS,
    STUDY_PUBLIC_KEY,
    chromium_available,
    open_sealed,
)

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 740}


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    require_program("Chromium (/usr/bin/chromium)", chromium_available())
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    b = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    yield b
    b.close()


class Recorder:
    """Every request the page makes, to prove none leaves the origin."""

    def __init__(self, page: Page) -> None:
        self.urls: list[str] = []
        page.on("request", lambda r: self.urls.append(r.url))

    def outside(self, origin: str) -> list[str]:
        return [u for u in self.urls if not (u.startswith(origin + "/") or u.startswith("data:"))]


def open_landing(page: Page, base: str, code: str) -> None:
    page.goto(f"{base}/#code={code}")
    page.wait_for_selector("#start:not([hidden])")


def answer_general_form(page: Page) -> dict[str, Any]:
    """Fill the general form as a respondent would; returns the answers the office should get."""
    page.check("#in-sex-2")
    page.check("#in-age_band-4")
    page.select_option("#in-district", "5")
    page.check("#in-occupation-2")
    page.check("#in-household-3")
    page.click("section[data-page='1'] button.next")

    k6 = {"k6_1": 3, "k6_2": 2, "k6_3": 1, "k6_4": 0, "k6_5": 4, "k6_6": -7}
    for row, value in k6.items():
        page.check(f"#in-{row}-{value}")
    page.click("section[data-page='2'] button.next")

    # Skip logic: the follow-up items appear only after "yes".
    assert page.is_hidden("[data-item='ideation_recent']")
    page.check("#in-ideation_ever-1")
    assert page.is_visible("[data-item='ideation_recent']")
    page.check("#in-ideation_recent-2")
    page.check("#in-ideation_coping-8")  # 「特に何もしなかった」 is exclusive ...
    page.check("#in-ideation_coping-1")
    assert not page.is_checked("#in-ideation_coping-8")  # ... so picking another clears it
    page.check("#in-ideation_coping-4")
    # The crisis lines are shown prominently right after the ideation items.
    assert page.is_visible("section[data-page='3'] .crisis-prominent")
    page.click("section[data-page='3'] button.next")

    page.check("#in-consult-1")
    page.check("#in-consult-3")
    page.check("#in-hesitation-2")
    page.check("#in-aw_dial-1")
    page.check("#in-aw_law-3")
    page.click("section[data-page='4'] button.next")

    page.check("#in-att_1-2")
    page.check("#in-stress--7")  # 「答えたくない」 on a sensitive multiple choice
    for code in (1, 2, 3, 4):
        page.check(f"#in-measures-{code}")
    page.fill("#in-opinion", CANARY + "\n相談しやすい街に")
    return {
        "sex": 2,
        "age_band": 4,
        "district": 5,
        "occupation": 2,
        "household": 3,
        **k6,
        "ideation_ever": 1,
        "ideation_recent": 2,
        "ideation_coping": [1, 4],
        "consult": [1, 3],
        "hesitation": 2,
        "aw_dial": 1,
        "aw_law": 3,
        "att_1": 2,
        "stress": -7,
        "measures": [1, 2, 3],
        "opinion": CANARY + "\n相談しやすい街に",
    }


def test_a_citizen_answers_the_general_form(
    browser: Browser, live_server: str, issued: Issued
) -> None:
    code = issued.codes["general"][0]
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    requests = Recorder(page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    open_landing(page, live_server, code)
    assert "#" not in page.url  # the code left the address bar
    assert page.input_value("#code") == display(normalize(code))
    # The page shows the fingerprint of the key it uses, to compare with the slip.
    assert page.text_content("#fingerprint") == fingerprint(STUDY_PUBLIC_KEY)
    page.click("#code-submit")
    page.wait_for_selector("#survey-form")
    assert page.text_content("#progress-now") == "1"

    expected = answer_general_form(page)
    page.check("#in-measures-4")  # a fourth pick of three allowed ...
    page.click("button.submit")
    assert page.is_visible("#err-measures")  # ... is refused at the field, nothing sent
    assert "/api/responses" not in " ".join(requests.urls)
    page.uncheck("#in-measures-4")
    page.click("button.submit")
    page.wait_for_url(f"{live_server}/thanks")
    assert "0570-064-556" in page.text_content(".crisis-prominent")

    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert context.cookies() == []
    assert requests.outside(live_server) == []
    assert errors == []
    context.close()

    with Session(issued.db.engine) as session:
        stored = session.exec(select(CollectorResponse)).one()
    doc = open_sealed(stored.sealed, 8192)
    assert doc == {
        "study": "default",
        "cohort": "general",
        "form": "general",
        "version": 1,
        "answers": expected,
    }
    assert len(stored.sealed) == 8192 + 48


def test_typos_are_caught_before_any_request(
    browser: Browser, live_server: str, issued: Issued
) -> None:
    code = issued.codes["general"][1]
    typo = code[:5] + ("0" if code[5] != "0" else "1") + code[6:]
    page = browser.new_page(viewport=PHONE)
    requests = Recorder(page)
    open_landing(page, live_server, typo)
    page.click("#code-submit")
    assert page.is_visible("#code-error")
    assert page.get_attribute("#code", "aria-invalid") == "true"
    assert not any("/api/codes/check" in u for u in requests.urls)
    page.fill("#code", "0000-0000-0000-0")  # well formed but never issued: asks the server
    page.click("#code-submit")
    expect(page.locator("#code-error")).to_contain_text("見つかりません")
    page.close()


def test_leaving_a_started_form_warns(browser: Browser, live_server: str, issued: Issued) -> None:
    page = browser.new_page(viewport=PHONE)
    open_landing(page, live_server, issued.codes["general"][2])
    page.click("#code-submit")
    page.wait_for_selector("#survey-form")
    page.check("#in-sex-1")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.type), d.accept()))
    page.goto("about:blank")  # leaving: the browser asks first
    assert dialogs == ["beforeunload"]
    page.close()


def test_english_on_the_general_form(browser: Browser, live_server: str, issued: Issued) -> None:
    page = browser.new_page(viewport=PHONE)
    open_landing(page, live_server, issued.codes["general"][3])
    page.click("#code-submit")
    page.wait_for_selector("#survey-form")
    page.click("#lang-toggle")
    assert page.get_attribute("html", "lang") == "en"
    assert page.is_visible("text=About you") and page.is_hidden("text=あなたご自身について")
    page.close()


def test_a_students_form_has_no_english_switch(
    browser: Browser, live_server: str, issued: Issued
) -> None:
    page = browser.new_page(viewport=PHONE)
    open_landing(page, live_server, issued.codes["high_school"][0])
    page.click("#code-submit")
    page.wait_for_selector("#survey-form")
    assert page.is_hidden("#lang-toggle") and page.get_attribute("html", "lang") == "ja"
    page.close()


def test_without_javascript_or_crypto_the_page_says_answer_on_paper(
    browser: Browser, live_server: str
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/")
    assert "紙の調査票" in page.inner_text("main")
    context.close()
    page = browser.new_page()
    page.route("**/api/study", lambda route: route.abort())  # the key cannot be fetched
    page.goto(live_server + "/")
    page.wait_for_selector("#crypto-failed:not([hidden])")
    assert page.is_hidden("#start")
    page.close()


def serious(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document)).violations"
    )
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in violations
        if v["impact"] in ("serious", "critical")
    ]


def test_accessibility_of_landing_form_and_thanks(
    browser: Browser, live_server: str, issued: Issued
) -> None:
    require_program("axe-core (npm ci)", AXE.exists())
    # axe is injected as an inline script, which the strict CSP refuses: audit in a context
    # that bypasses CSP (the CSP itself is tested in test_collector_api.py).
    context = browser.new_context(bypass_csp=True, viewport=PHONE)
    page = context.new_page()
    open_landing(page, live_server, issued.codes["general"][4])
    assert serious(page) == []
    page.click("#code-submit")
    page.wait_for_selector("#survey-form")
    assert serious(page) == []
    for n in range(1, 5):  # every section, as the respondent reaches it
        page.click(f"section[data-page='{n}'] button.next")
        if n == 2:
            page.check("#in-ideation_ever-1")
        assert serious(page) == [], f"section {n + 1}"
    page.goto(live_server + "/thanks")
    assert serious(page) == []
    context.close()
