"""自由意見 pages: the analyst adds a category, codes, redacts and approves through the forms;
other roles are refused (the role matrix in test_office_auth covers every route)."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from playwright.sync_api import Browser
from sqlmodel import select

from survey.analysis import opinions
from survey.db import Database
from survey.models import OpinionCategory, OpinionCoding
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


@pytest.mark.sqlite_only  # the same pages on either database; Chromium is the slow part
def test_the_pages_fit_a_phone_and_a_desktop(
    db: Database, office_app: Litestar, browser: Browser
) -> None:
    with db.session() as session:
        study, ids = _study(session, {"general": 2, "high_school": 1})
        cat = opinions.add_category(session, study, "相談窓口の周知", "yuki")
        opinions.code(session, study, ids[0], [cat.id], "3丁目の件", "yuki")  # type: ignore[list-item]
        session.commit()
    make_staff(db, yuki=["analyst"])
    with contextmanager(serve)(office_app) as base:
        for width, viewport in WIDTHS.items():
            page = browser.new_context(viewport=viewport).new_page()
            errors = console_errors(page)
            browser_log_in(page, base, "yuki")
            for shot, path in (("opinions", PAGE), ("opinions-item", f"{PAGE}/q_free")):
                page.goto(base + path)
                check_fits(page, f"{shot}-{width}", errors)
            page.context.close()
