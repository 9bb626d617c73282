"""The collector app on an issued study: an in-process client and a live server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import uvicorn
from litestar import Litestar
from litestar.testing import TestClient
from playwright.sync_api import Browser, sync_playwright

from survey.db import Database
from survey.settings import Settings
from survey.web.collector.app import create_collector_app
from survey.web.serve import Dispatch, uvicorn_options
from tests.conftest import Issued, require_program
from tests.helpers import CHROMIUM, CHROMIUM_ARGS, chromium_available
from tests.web.office_helpers import BASE, Clock


@pytest.fixture
def collector_app(issued: Issued) -> Litestar:
    # Most tests make many unknown-code attempts; the limit itself is tested on its own.
    return create_collector_app(replace(issued.settings, unknown_code_limit=0), issued.db.engine)


@pytest.fixture
def client(collector_app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(collector_app, base_url="http://127.0.0.1") as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(app: Any, settings: Settings | None = None) -> Iterator[str]:
    """Run ``app`` on a real uvicorn in a thread, configured as our servers run it; yields its
    base URL until the test ends. Without settings: uvicorn's own defaults."""
    port = free_port()
    options = uvicorn_options(settings) if settings is not None else {"access_log": False}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def live_server(collector_app: Litestar) -> Iterator[str]:
    """The collector served by a real uvicorn on localhost, as ``survey serve`` runs it."""
    yield from serve(Dispatch(collector_app, None), collector_app.state.collector.settings)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def office_app(db: Database, clock) -> Litestar:  # type: ignore[no-untyped-def]
    # Request ``issued`` before ``office`` in a test that needs both: the study fixture sets
    # SURVEY_PUBLIC_URL before these settings are read.
    from survey.web.office.app import create_office_app

    return create_office_app(db.settings, db.engine, clock)


@pytest.fixture
def office(office_app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(office_app, base_url=BASE) as c:
        yield c


@pytest.fixture
def live_both(issued: Issued, clock: Clock) -> Iterator[str]:
    """Collector and office on one real uvicorn, as ``survey serve`` runs them."""
    from survey.web.office.app import create_office_app

    settings = replace(issued.settings, unknown_code_limit=0)
    app = Dispatch(
        create_collector_app(settings, issued.db.engine),
        create_office_app(settings, issued.db.engine),
    )
    yield from serve(app, settings)


# One Chromium per test module, shared by the office's browser tests (the public form's own
# tests in test_e2e_form.py launch theirs with other options).
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_program("Chromium (/usr/bin/chromium)", chromium_available())
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()
