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
    for code in (1, 2, 3):
        page.check(f"#in-measures-{code}")
    assert page.is_hidden("#err-measures")
    page.check("#in-measures-4")  # a fourth pick of 「3つまで」 is caught at once, right there
    expect(page.locator("#err-measures")).to_have_text("選べるのは3つまでです。")
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

    expected = answer_general_form(page)  # with a fourth pick of three allowed ...
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.click("button.submit")
    assert page.is_visible("#err-measures")  # ... refused at the field, nothing sent
    assert "/api/responses" not in " ".join(requests.urls)
    # The message is brought into view beside its question, not 13 options below.
    assert in_view(page, "#err-measures") and in_view(page, "[data-item='measures'] legend")
    assert page.evaluate("document.activeElement.id") == "in-measures-1"
    page.uncheck("#in-measures-4")
    assert page.is_hidden("#err-measures")  # gone as soon as the answer is right
    page.click("button.submit")
    page.wait_for_url(f"{live_server}/thanks")
    assert "0570-064-556" in page.text_content(".crisis-prominent")
    assert page.locator("aside.crisis").count() == 1  # once on the thank-you page
    # Only what makes sense after answering: no "you may skip questions" here.
    assert "答えたくない質問" not in page.inner_text("body")

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
        "version": 2,
        "answers": expected,
    }
    assert len(stored.sealed) == 8192 + 48


def in_view(page: Page, selector: str) -> bool:
    box = page.locator(selector).bounding_box()
    height = page.viewport_size["height"] if page.viewport_size else 0
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height


def visible_crisis_boxes(page: Page) -> int:
    return int(
        page.evaluate(
            "() => [...document.querySelectorAll('aside.crisis')]"
            ".filter((el) => el.offsetParent !== null).length"
        )
    )


# What the page shows does not depend on the database (the issued codes only open the form):
# Chromium once, on SQLite.
@pytest.mark.sqlite_only
def test_the_crisis_lines_once_on_every_page_and_in_english(
    browser: Browser, live_server: str, issued: Issued
) -> None:
    page = browser.new_page(viewport=PHONE)
    open_landing(page, live_server, issued.codes["general"][6])
    assert visible_crisis_boxes(page) == 1  # the landing page's footer list
    page.click("#code-submit")
    page.wait_for_selector("#survey-form")
    for n in range(1, 6):
        prominent = page.locator(f"section[data-page='{n}'] .crisis-prominent").count() > 0
        # Once on a page: after the ideation items the prominent box replaces the footer.
        assert visible_crisis_boxes(page) == 1, n
        assert page.is_visible(".site-footer + aside.crisis, main ~ aside.crisis") is not prominent
        if n < 5:
            page.click(f"section[data-page='{n}'] button.next")
    page.click("section[data-page='5'] button.back")
    page.click("section[data-page='4'] button.back")  # back to the ideation section
    page.click("#lang-toggle")
    box = page.locator("section[data-page='3'] .crisis-prominent")
    text = box.inner_text()
    assert "Yorisoi Hotline" in text and "Inochi no Denwa (Lifeline)" in text
    assert "よりそいホットライン" not in text and "0120-279-338" in text
    assert "(24 hours)" in text and "(10:00-22:00)" in text
    page.close()


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


JS = Path(__file__).resolve().parents[2] / "survey" / "web" / "collector" / "js"
TEMPLATES = JS.parent / "templates"
# Every variable of the form in the page, with the spec js/form.js reads for it from the page.
SPECS = """async () => {
  const { specOf, variablesOf } = await import("/__src/form.js");
  const out = {};
  for (const item of document.querySelectorAll("#survey-form [data-item]")) {
    for (const [name, container] of variablesOf(item)) out[name] = specOf(item, container, name);
  }
  return out;
}"""


def serve_sources(page: Page, base: str) -> None:
    """The browser modules as they are in the tree, under /__src/ (the page bundles them)."""
    page.route(
        f"{base}/__src/*.js",
        lambda route: route.fulfill(
            path=JS / route.request.url.rsplit("/", 1)[1], content_type="text/javascript"
        ),
    )


def test_the_page_checks_what_the_definition_says(
    browser: Browser, live_server: str, issued: Issued
) -> None:
    """What form.js reads from the rendered page for each variable is the definition's, and
    each type's rule is applied at its field, for every type (the real forms lack some)."""
    from jinja2 import Environment, FileSystemLoader

    from survey.forms.validate import validate
    from survey.forms.web import form_view
    from tests.forms.samples import EVERY_TYPE, REAL_FORMS
    from tests.web.test_browser_logic import browser_spec

    # Module scripts of our own are injected: audit in a context that bypasses the CSP.
    context = browser.new_context(bypass_csp=True, viewport=PHONE)
    page = context.new_page()
    serve_sources(page, live_server)
    open_landing(page, live_server, issued.codes["general"][5])
    page.click("#code-submit")
    page.wait_for_selector("#survey-form")
    general = next(f for f in REAL_FORMS if f.id == "general")
    assert page.evaluate(SPECS) == {v.id: browser_spec(v) for v in general.variables()}

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    view = form_view(EVERY_TYPE)
    html = env.get_template("form.html").render(form=view, bilingual=True, crisis_lines=[])
    page.evaluate("html => { document.getElementById('form-host').innerHTML = html; }", html)
    page.evaluate(
        """async () => { const { SurveyForm } = await import("/__src/form.js");
        window.testForm = new SurveyForm(document.getElementById("survey-form"), () => "ja"); }"""
    )
    assert page.evaluate(SPECS) == {v.id: browser_spec(v) for v in EVERY_TYPE.variables()}

    def valid(n: int) -> bool:
        return bool(page.evaluate(f"() => testForm.validatePage(testForm.pages[{n - 1}])"))

    page.check("#in-gate-1")
    for code in (1, 2, 3):  # three picks of at most two ...
        page.check(f"#in-picks-{code}")
    assert not valid(1)
    expect(page.locator("#err-picks")).to_have_text("選べるのは2つまでです。")
    assert page.is_hidden("[data-item='picks_more']")  # ... open no follow-up, as in Python
    page.uncheck("#in-picks-3")
    assert page.is_visible("[data-item='picks_more']") and valid(1)
    page.check("#in-picks_more-2")
    page.click("section[data-page='1'] button.next")

    page.check("#in-grid_a-0")
    page.select_option("#in-place", "2")
    for typed, ok in (("abc", False), ("1e1", False), ("121", False), ("　１２ ", True)):
        page.fill("#in-age", typed)
        assert valid(2) is ok, typed
        if not ok:
            expect(page.locator("#err-age")).to_have_text("0から120までの整数で入力してください。")
            assert page.get_attribute("#in-age", "aria-invalid") == "true"
    page.fill("#in-count", "25")
    assert not valid(2)
    page.check("#in-count--7")  # 「答えたくない」 clears the field and the error
    assert page.input_value("#in-count") == "" and valid(2)
    # maxlength stops typing (and Playwright's fill), not a script setting the value
    page.eval_on_selector("#in-word", "(el, text) => { el.value = text; }", "x" * 21)
    assert not valid(2)
    expect(page.locator("#err-word")).to_have_text("20文字までで入力してください。")
    page.fill("#in-word", " 一言 ")
    page.fill("#in-essay", "   ")  # spaces only: nothing, never an error
    assert valid(2)
    answers = page.evaluate("() => testForm.answers()")
    assert answers == {
        "gate": 1,
        "picks": [1, 2],
        "picks_more": 2,
        "grid_a": 0,
        "place": 2,
        "age": 12,
        "count": -7,
        "word": " 一言 ",
    }
    stored = validate(EVERY_TYPE, answers)
    assert {k: stored[k] for k in answers} == answers
    context.close()
