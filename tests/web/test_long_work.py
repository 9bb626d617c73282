"""Long office work holds no write lock: while code slips print or a register is drawn, the
public form of a one-process installation keeps storing answers (201, never 503)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

import mailing.service
import survey.sampling.service
from survey.forms.loader import current_forms, load_forms
from survey.web.collector.app import create_collector_app
from tests.conftest import SMALL_ALLOCATION, Issued
from tests.helpers import STUDY_PUBLIC_KEY, seal
from tests.web.office_helpers import PASSWORD, csrf, log_in, make_staff

Client = TestClient[Litestar]


def held_open(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> tuple[Any, Any]:
    """Make ``module.name`` wait, once started, until released: (started, release) events."""
    started, release = threading.Event(), threading.Event()
    real: Callable[..., Any] = getattr(module, name)

    def slow(*args: Any, **kwargs: Any) -> Any:
        started.set()
        assert release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)
    return started, release


@pytest.fixture
def public(issued: Issued) -> Iterator[Client]:
    # A short busy timeout: a submission waiting for a held write lock fails fast (503).
    settings = replace(issued.settings, busy_timeout_ms=300, unknown_code_limit=0)
    with TestClient(create_collector_app(settings, issued.db.engine)) as client:
        yield client


def submit(public: Client, code: str) -> int:
    general = current_forms(load_forms())["general"]
    body = {"code": code, "sealed": seal(STUDY_PUBLIC_KEY, general, {"sex": 1})}
    return public.post("/api/responses", json=body).status_code


def in_background(call: Callable[[], httpx.Response]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(call()), daemon=True)
    thread.start()
    return thread, out


def test_a_submission_while_code_slips_print_is_stored(
    issued: Issued, public: Client, office: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_staff(issued.db, olive=["officer"])
    log_in(office, "olive")
    started, release = held_open(monkeypatch, mailing.service, "write_slips")
    data = {"csrf_token": csrf(office), "password": PASSWORD, "additional": "2"}
    thread, reply = in_background(
        lambda: office.post("/office/studies/default/files/slips", data=data)
    )
    assert started.wait(60)  # the slips are being rendered now
    try:
        assert submit(public, issued.codes["general"][0]) == 201
    finally:
        release.set()
        thread.join(60)
    assert reply[0].status_code == 200 and reply[0].content.startswith(b"%PDF")


def test_a_submission_during_a_draw_is_stored(
    issued: Issued,
    public: Client,
    office: Client,
    monkeypatch: pytest.MonkeyPatch,
    synth_register: Any,
) -> None:
    make_staff(issued.db, olive=["officer"])
    log_in(office, "olive")
    created = {"name": "second", "as_of": "2026-04-01", "csrf_token": csrf(office)}
    assert office.post("/office/studies", data=created, follow_redirects=False).status_code == 303
    started, release = held_open(monkeypatch, survey.sampling.service, "read_register")
    token = csrf(office, "/office/studies/second")
    thread, reply = in_background(
        lambda: office.post(
            "/office/studies/second/draw",
            data={"csrf_token": token, "password": PASSWORD, "allocation": SMALL_ALLOCATION},
            files={"register": ("register.csv", synth_register.read_bytes(), "text/csv")},
        )
    )
    assert started.wait(60)  # the register is being read
    try:
        assert submit(public, issued.codes["general"][1]) == 201
    finally:
        release.set()
        thread.join(60)
    assert "抽出が完了しました" in reply[0].text
