"""自由意見 pages: the analyst adds a category, codes, redacts and approves through the forms;
other roles are refused (the role matrix in test_office_auth covers every route)."""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from playwright.sync_api import Browser
from sqlmodel import select

from survey.analysis import opinions
from survey.db import Database
from survey.models import OpinionCategory, OpinionCoding, Study
from survey.web.office.opinions import PER_PAGE, page_number
from tests.analysis.test_opinions import ORIGINAL, _study
from tests.web.conftest import serve
from tests.web.office_helpers import csrf, log_in, make_staff
from tests.web.test_e2e_office import WIDTHS, check_fits, console_errors
from tests.web.test_e2e_office import log_in as browser_log_in

PAGE = "/office/studies/s1/opinions"


def test_analyst_codes_redacts_and_approves(
    db: Database, database_backend: str, office: TestClient[Litestar]
) -> None:
    with db.session() as session:
        _, ids = _study(session, {"general": 3})
        session.commit()
    make_staff(db, yuki=["analyst"], kenji=["officer"])
    assert log_in(office, "yuki").status_code in (302, 303)
    assert "0/3" in office.get(PAGE).text
    token = csrf(office, PAGE)
    office.post(f"{PAGE}/categories", data={"csrf_token": token, "name": "相談窓口"})
    with db.session(write=False) as session:
        cat = session.exec(select(OpinionCategory)).one()
    item = office.get(f"{PAGE}/q_free")
    assert ORIGINAL in item.text and "相談窓口" in item.text
    assert "（一般市民）" in item.text  # cohorts in staff words, not ids
    assert "全3件" in item.text and 'class="pager"' not in item.text  # one page: no links
    reply = office.post(
        f"{PAGE}/q_free/{ids[0]}",
        data={"csrf_token": token, f"cat_{cat.id}": "1", "redacted": "近所で困っています。",
              "action": "approve"},
    )  # fmt: skip
    assert reply.status_code == 200
    # Flagged redaction without the confirmation: refused, shown on the page.
    refused = office.post(
        f"{PAGE}/q_free/{ids[1]}",
        data={"csrf_token": token, "redacted": "3丁目の件", "action": "approve"},
    )
    assert "丁目" in refused.text and "公表可" in refused.text
    with db.session(write=False) as session:
        codings = {c.free_text_id: c for c in session.exec(select(OpinionCoding))}
    assert codings[ids[0]].approved_by == "yuki"
    assert codings[ids[1]].redacted == "3丁目の件" and codings[ids[1]].approved_by is None
    assert "1/3" in office.get(PAGE).text
    office.post("/office/logout", data={"csrf_token": token})
    log_in(office, "kenji")
    assert office.get(PAGE).status_code == 403
    assert office.get(f"{PAGE}/q_free").status_code == 403


def _shown(html: str) -> list[int]:
    """The answer ids of a page, in order."""
    return [int(x) for x in re.findall(r'<section id="a(\d+)"', html)]


def test_an_item_page_shows_50_answers_with_page_links(
    db: Database, database_backend: str, office: TestClient[Litestar]
) -> None:
    with db.session() as session:
        _, ids = _study(session, {"general": 80, "high_school": 40})
        session.commit()
    make_staff(db, yuki=["analyst"])
    log_in(office, "yuki")
    first = office.get(f"{PAGE}/q_free").text
    assert _shown(first) == ids[:PER_PAGE]
    assert "1 / 3 ページ" in first and "全120件中 1〜50件目" in first
    assert f'href="{PAGE}/q_free?page=2" rel="next"' in first and 'rel="prev"' not in first
    second = office.get(f"{PAGE}/q_free?page=2").text
    assert _shown(second) == ids[50:100]
    assert f'href="{PAGE}/q_free" rel="prev"' in second
    assert f'href="{PAGE}/q_free?page=3" rel="next"' in second
    last = office.get(f"{PAGE}/q_free?page=3").text
    assert _shown(last) == ids[100:] and 'rel="next"' not in last and "101〜120件目" in last
    # Out of range or not a number: the nearest page, never an error.
    assert _shown(office.get(f"{PAGE}/q_free?page=99").text) == ids[100:]
    assert _shown(office.get(f"{PAGE}/q_free?page=x").text) == ids[:PER_PAGE]
    # A form posted from page 2 leads back to page 2 (at its answer), an error too.
    token = csrf(office, PAGE)
    saved = office.post(
        f"{PAGE}/q_free/{ids[60]}",
        data={"csrf_token": token, "redacted": "近所の件", "page": "2", "action": "code"},
    )
    assert saved.url.params.get("page") == "2"
    assert _shown(saved.text) == ids[50:100]
    refused = office.post(
        f"{PAGE}/q_free/{ids[61]}",
        data={"csrf_token": token, "page": "2", "action": "approve"},
    )
    assert "編集（匿名化）した文を保存してから" in refused.text
    assert _shown(refused.text) == ids[50:100]
    assert refused.url.params.get("page") == "2"
    with db.session(write=False) as session:
        study = session.exec(select(Study)).one()
        assert opinions.count_answers(session, study, "q_free") == 120
    assert page_number("2", 50) == (1, 1) and page_number("0", 51) == (1, 2)


@pytest.mark.sqlite_only  # the same pages on either database; Chromium is the slow part
def test_the_pages_fit_a_phone_and_a_desktop(
    db: Database, office_app: Litestar, browser: Browser
) -> None:
    with db.session() as session:
        # More than a page: the page links show (page 2 holds the last three).
        study, ids = _study(session, {"general": 52, "high_school": 1})
        cat = opinions.add_category(session, study, "相談窓口の周知", "yuki")
        opinions.code(session, study, ids[0], [cat.id], "3丁目の件", "yuki")  # type: ignore[list-item]
        session.commit()
    make_staff(db, yuki=["analyst"])
    with contextmanager(serve)(office_app) as base:
        for width, viewport in WIDTHS.items():
            page = browser.new_context(viewport=viewport).new_page()
            errors = console_errors(page)
            browser_log_in(page, base, "yuki")
            for shot, path in (
                ("opinions", PAGE),
                ("opinions-item", f"{PAGE}/q_free"),
                ("opinions-item-page2", f"{PAGE}/q_free?page=2"),
            ):
                page.goto(base + path)
                check_fits(page, f"{shot}-{width}", errors)
            page.context.close()
