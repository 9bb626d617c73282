"""How the servers run: proxy headers believed only from trusted proxies, several worker
processes sharing one code's consumption, and no start on a schema that is not current."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from survey.errors import UsageError
from survey.forms.loader import current_forms, load_forms
from survey.settings import load_settings
from survey.web.collector.app import create_collector_app
from survey.web.serve import Dispatch
from tests.conftest import Issued
from tests.helpers import STUDY_PUBLIC_KEY, seal
from tests.web.conftest import free_port, serve

UNKNOWN = {"code": "0000-0000-0000-0"}


def forged_guesses(base: str, n: int = 100) -> list[int]:
    """``n`` unknown codes, each claiming another client address in X-Forwarded-For."""
    with httpx.Client(base_url=base) as client:
        return [
            client.post(
                "/api/codes/check", json=UNKNOWN, headers={"X-Forwarded-For": f"203.0.113.{i}"}
            ).status_code
            for i in range(n)
        ]


def test_uvicorns_defaults_let_forged_headers_escape_the_limit(issued: Issued) -> None:
    """The defect, reproduced: uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so
    a client on the host (or behind a proxy passing the header on) made 100 guesses."""
    settings = replace(issued.settings, unknown_code_limit=30)
    app = Dispatch(create_collector_app(settings, issued.db.engine), None)
    for base in serve(app):  # uvicorn's defaults, not ours
        assert forged_guesses(base) == [404] * 100


def test_forged_forwarded_for_headers_are_ignored(issued: Issued) -> None:
    settings = replace(issued.settings, unknown_code_limit=30)
    app = Dispatch(create_collector_app(settings, issued.db.engine), None)
    for base in serve(app, settings):
        assert forged_guesses(base) == [404] * 30 + [429] * 70


def test_a_trusted_proxys_forwarded_for_is_believed(issued: Issued) -> None:
    settings = replace(issued.settings, unknown_code_limit=30, trusted_proxies=("127.0.0.1/32",))
    app = Dispatch(create_collector_app(settings, issued.db.engine), None)
    for base in serve(app, settings):
        # Each forwarded address is a client of its own: none reaches the limit...
        assert forged_guesses(base) == [404] * 100
        # ...and one address behind the proxy is limited as itself.
        with httpx.Client(base_url=base) as client:
            same = [
                client.post(
                    "/api/codes/check", json=UNKNOWN, headers={"X-Forwarded-For": "198.51.100.7"}
                ).status_code
                for _ in range(31)
            ]
        assert same == [404] * 30 + [429]


def test_the_proxy_list_is_checked() -> None:
    env = {"SURVEY_DATA_DIR": "/tmp/x", "SURVEY_KEY_DIR": "/tmp/y"}
    assert load_settings({**env, "SURVEY_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16"}) is not None
    with pytest.raises(UsageError, match="SURVEY_TRUSTED_PROXIES"):
        load_settings({**env, "SURVEY_TRUSTED_PROXIES": "proxy.example"})


def wait_for(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server stopped"
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise AssertionError("the server did not start")


def test_two_worker_processes_consume_a_code_once(issued: Issued, env: dict[str, str]) -> None:
    port = free_port()
    exe = Path(sys.executable).parent / "survey-collector"
    process = subprocess.Popen(
        [str(exe), "serve", "--workers", "2", "--port", str(port)],
        env={**os.environ, **env, "SURVEY_UNKNOWN_CODE_LIMIT": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base, process)
        code = issued.codes["general"][0]
        form = httpx.post(base + "/api/codes/check", json={"code": code}).json()
        assert form["form"] == "general"
        general = current_forms(load_forms())["general"]
        bodies = [seal(STUDY_PUBLIC_KEY, general, {"sex": 1}) for _ in range(30)]
        others = issued.codes["general"][1:21]
        statuses: list[int] = []
        fresh: list[int] = []
        barrier = threading.Barrier(len(bodies) + len(others))

        def same(body: str) -> None:
            barrier.wait()
            reply = httpx.post(base + "/api/responses", json={"code": code, "sealed": body})
            statuses.append(reply.status_code)

        def other(each: str) -> None:
            barrier.wait()
            body = seal(STUDY_PUBLIC_KEY, general, {"sex": 2})
            reply = httpx.post(base + "/api/responses", json={"code": each, "sealed": body})
            fresh.append(reply.status_code)

        threads = [threading.Thread(target=same, args=(b,)) for b in bodies]
        threads += [threading.Thread(target=other, args=(c,)) for c in others]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(statuses) == [201] + [409] * 29
        assert fresh == [201] * 20  # writers in two processes, none refused
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


@pytest.mark.sqlite_only  # it needs a database nobody has upgraded: a new SQLite file
def test_servers_refuse_to_start_on_a_schema_that_is_not_current(  # type: ignore[no-untyped-def]
    run_collector, run
) -> None:
    for args in (["serve", "--workers", "1"], ["serve", "--workers", "2"]):
        refused = run_collector(*args)
        assert refused.exit_code == 1, args
        assert "survey-collector db upgrade" in refused.stderr
    assert run_collector("db", "upgrade").exit_code == 0  # the collector's tables only
    office = run("serve", "--app", "office")
    assert office.exit_code == 1 and "survey db upgrade" in office.stderr
