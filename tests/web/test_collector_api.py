"""The collector's HTTP contract: every reply of the intake API, headers, limits."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import threading
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient, TestClient

from survey.collector.intake import Intake
from survey.db import Database
from survey.forms.loader import Form
from survey.web.collector.app import BODY_LIMIT, create_collector_app
from survey.web.headers import COLLECTOR_CSP
from tests.conftest import Issued
from tests.helpers import STUDY_PUBLIC_KEY, seal

Client = TestClient[Litestar]


def general_form(intake: Intake, issued: Issued) -> Form:
    return intake.check(issued.codes["general"][0]).form


def test_study_info(client: Client) -> None:
    reply = client.get("/api/study")
    assert reply.status_code == 200
    info = reply.json()
    assert set(info) == {"study", "public_key", "fingerprint", "forms"}
    assert base64.b64decode(info["public_key"]) == STUDY_PUBLIC_KEY
    assert info["forms"]["general"] == {"version": 2, "cohort": "general", "padded_size": 8192}
    assert "junior_high" not in info["forms"]  # paper only


def test_code_check_replies(client: Client, issued: Issued, intake: Intake) -> None:
    code = issued.codes["general"][0]
    ok = client.post("/api/codes/check", json={"code": code.lower()})
    assert ok.status_code == 200
    assert ok.json() == {"study": "default", "cohort": "general", "form": "general", "version": 2}

    typo = code[:-1] + ("0" if code[-1] != "0" else "1")
    replies = [
        client.post("/api/codes/check", json={"code": c}) for c in (typo, "0000-0000-0000-0")
    ]
    assert [r.status_code for r in replies] == [404, 404]
    assert replies[0].json() == replies[1].json()  # one reply for any unknown code

    paper = client.post("/api/codes/check", json={"code": issued.codes["junior_high"][0]})
    assert paper.status_code == 403 and "紙" in paper.json()["message"]

    intake.submit(code, seal(STUDY_PUBLIC_KEY, general_form(intake, issued), {}))
    assert client.post("/api/codes/check", json={"code": code}).status_code == 409

    for bad in (b"{", b"[]", b'{"codes": "x"}', b'{"code": 5}'):
        reply = client.post(
            "/api/codes/check", content=bad, headers={"Content-Type": "application/json"}
        )
        assert reply.status_code == 400, bad
        assert "x" not in reply.json()["message_en"].split()


def test_response_replies(client: Client, issued: Issued, intake: Intake) -> None:
    form = general_form(intake, issued)
    first, second = issued.codes["general"][:2]
    sealed = seal(STUDY_PUBLIC_KEY, form, {"sex": 1})

    def post(code: str, body: str) -> int:
        return client.post("/api/responses", json={"code": code, "sealed": body}).status_code

    wrong_length = base64.b64encode(bytes(form.padded_size + 47)).decode()
    assert post(first, wrong_length) == 400
    assert post(first, "not base64!") == 400
    assert post(first, sealed.rstrip("=")) == 400  # standard base64 with padding only
    assert post("0000-0000-0000-0", sealed) == 404
    assert post(issued.codes["junior_high"][0], sealed) == 403
    reply = client.post("/api/responses", json={"code": first, "sealed": sealed})
    assert reply.status_code == 201 and reply.json() == {"stored": True}
    assert post(first, seal(STUDY_PUBLIC_KEY, form, {"sex": 2})) == 409  # code used
    assert post(second, sealed) == 409  # the same sealed bytes: a replay
    assert client.post("/api/codes/check", json={"code": second}).status_code == 200


def test_oversize_body_is_413(client: Client, issued: Issued) -> None:
    big = json.dumps({"code": issued.codes["general"][0], "sealed": "A" * BODY_LIMIT})
    reply = client.post("/api/responses", content=big, headers={"Content-Type": "application/json"})
    assert reply.status_code == 413
    assert reply.headers["content-security-policy"] == COLLECTOR_CSP


def test_fifty_simultaneous_submissions_over_http(
    collector_app: Litestar, issued: Issued, intake: Intake
) -> None:
    code = issued.codes["general"][3]
    form = general_form(intake, issued)
    bodies = [seal(STUDY_PUBLIC_KEY, form, {"sex": 1}) for _ in range(50)]

    async def submit_all() -> list[Any]:
        async with AsyncTestClient(collector_app) as client:
            return await asyncio.gather(
                *(client.post("/api/responses", json={"code": code, "sealed": b}) for b in bodies)
            )

    replies = asyncio.run(submit_all())
    statuses = sorted(r.status_code for r in replies)
    assert statuses == [201] + [409] * 49


@pytest.mark.sqlite_only  # the SQLite file itself
def test_busy_database_is_503_never_500(issued: Issued, intake: Intake) -> None:
    settings = replace(issued.settings, busy_timeout_ms=200, unknown_code_limit=0)
    db = Database(settings)
    app = create_collector_app(settings, db.engine)
    form = general_form(intake, issued)
    code = issued.codes["general"][4]
    blocker = sqlite3.connect(settings.data_dir / "survey.sqlite3", isolation_level=None)
    try:
        with TestClient(app) as client:
            client.get("/api/study")  # the app finds its study before the lock is taken
            blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
            sealed = seal(STUDY_PUBLIC_KEY, form, {})
            reply = client.post("/api/responses", json={"code": code, "sealed": sealed})
            assert reply.status_code == 503
            assert "混み合って" in reply.json()["message"]
            blocker.execute("ROLLBACK")
            again = client.post("/api/responses", json={"code": code, "sealed": sealed})
            assert again.status_code == 201  # nothing was lost or consumed by the 503
    finally:
        blocker.close()
        db.dispose()


def test_unknown_codes_are_rate_limited_in_memory(issued: Issued) -> None:
    app = create_collector_app(replace(issued.settings, unknown_code_limit=3), issued.db.engine)
    good = issued.codes["general"][0]
    with TestClient(app) as client:
        for _ in range(5):  # known codes never count
            assert client.post("/api/codes/check", json={"code": good}).status_code == 200
        statuses = [
            client.post("/api/codes/check", json={"code": "0000-0000-0000-0"}).status_code
            for _ in range(4)
        ]
        assert statuses == [404, 404, 404, 429]
        assert client.post("/api/codes/check", json={"code": good}).status_code == 429
        blocked = client.post("/api/responses", json={"code": good, "sealed": "x"})
        assert blocked.status_code == 429
    with TestClient(app) as other:  # per app instance and per client: a fresh app starts clean
        fresh = create_collector_app(
            replace(issued.settings, unknown_code_limit=3), issued.db.engine
        )
        with TestClient(fresh) as c2:
            assert c2.post("/api/codes/check", json={"code": good}).status_code == 200
        del other


PATHS = ["/", "/thanks", "/forms/general/2", "/api/study", "/schema/openapi.json", "/nowhere"]


def test_security_headers_and_no_cookies_on_every_reply(client: Client) -> None:
    replies = [client.get(p) for p in PATHS]
    replies.append(client.get("/static/style.css"))
    replies.append(client.post("/api/codes/check", json={"code": "0000-0000-0000-0"}))
    replies.append(client.post("/api/codes/check", content=b"{"))
    for reply in replies:
        assert reply.headers["content-security-policy"] == COLLECTOR_CSP, reply.url
        assert reply.headers["referrer-policy"] == "no-referrer"
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert "set-cookie" not in reply.headers
        assert "strict-transport-security" not in reply.headers  # plain HTTP
        assert "server" not in reply.headers or "uvicorn" not in reply.headers["server"]
    assert [r.status_code for r in replies[:6]] == [200, 200, 200, 200, 200, 404]


def test_hsts_behind_tls(collector_app: Litestar) -> None:
    with TestClient(collector_app, base_url="https://survey.example") as client:
        reply = client.get("/")
    assert reply.headers["strict-transport-security"].startswith("max-age=")


def test_openapi_is_json_only_and_can_be_switched_off(client: Client, issued: Issued) -> None:
    schema = client.get("/schema/openapi.json")
    assert schema.status_code == 200 and "/api/responses" in schema.json()["paths"]
    for ui in ("/schema/swagger", "/schema/redoc", "/schema/elements", "/schema/rapidoc"):
        assert client.get(ui).status_code == 404
    assert "<script" not in client.get("/schema").text
    off = create_collector_app(replace(issued.settings, openapi=False), issued.db.engine)
    with TestClient(off) as c:
        assert c.get("/schema/openapi.json").status_code == 404


def test_form_fragments_only_for_web_cohorts(client: Client) -> None:
    page = client.get("/forms/general/2")  # the version the codes froze
    assert page.status_code == 200 and 'data-padded-size="8192"' in page.text
    assert client.get("/forms/junior_high/2").status_code == 404
    assert client.get("/forms/general/1").status_code == 404
    assert client.get("/forms/general/3").status_code == 404


@pytest.mark.parametrize("path", ["/", "/thanks"])
def test_pages_show_crisis_lines_and_what_is_recorded(client: Client, path: str) -> None:
    html = client.get(path).text
    for number in ("0570-064-556", "0120-279-338", "0570-783-556", "0120-061-338"):
        assert number in html
    assert "記録されないこと" in html and "IPアドレス" in html


def test_a_one_app_server_answers_the_other_apps_paths_with_the_same_headers(
    collector_app: Litestar,
) -> None:
    from survey.web.serve import Dispatch

    with TestClient(Dispatch(collector_app, None)) as client:  # type: ignore[arg-type]
        reply = client.get("/office/login")
    assert reply.status_code == 404
    assert reply.headers["content-security-policy"] == COLLECTOR_CSP
    assert reply.headers["x-content-type-options"] == "nosniff"


DEEP = 50_000


@pytest.mark.parametrize(
    "body",
    [
        '{"code": ' + "[" * DEEP + "]" * DEEP + "}",
        "[" * DEEP + "]" * DEEP,
        '{"a":' * (DEEP // 2) + "1" + "}" * (DEEP // 2),  # under the 256 KiB body limit
    ],
)
def test_deeply_nested_json_is_a_client_error(client: Client, body: str) -> None:
    """Reproduces the defect: nesting past the JSON decoder's depth gave a 500."""
    for path in ("/api/codes/check", "/api/responses"):
        reply = client.post(path, content=body, headers={"content-type": "application/json"})
        assert reply.status_code == 400, path
        assert reply.json()["error"] == "malformed"
        assert "Recursion" not in reply.text and "Traceback" not in reply.text


@pytest.mark.parametrize("path", ["/static/%00style.css", "/static/style.css%00", "/%00"])
def test_a_nul_byte_in_a_path_is_not_found(client: Client, path: str) -> None:
    """Reproduces the defect: a NUL byte reached the static files' stat() (ValueError, 500)."""
    reply = client.get(path)
    assert reply.status_code == 404
    assert "ValueError" not in reply.text
    assert reply.headers["content-security-policy"] == COLLECTOR_CSP


def test_after_fieldwork_the_api_and_the_page_say_closed(  # type: ignore[no-untyped-def]
    issued: Issued, run
) -> None:
    assert (
        run(
            "study",
            "set",
            "fieldwork_end=2026-07-31",
            "fieldwork_grace_days=3",
            "organisation=志木市",
            "section=健康政策課",
            "office_phone=048-473-0000",
            "office_hours=平日 8:30〜17:15",
        ).exit_code
        == 0
    )
    app = create_collector_app(
        replace(issued.settings, unknown_code_limit=0),
        issued.db.engine,
        clock=lambda: date(2026, 8, 4),
    )
    code = issued.codes["general"][0]
    with TestClient(app) as c:
        for path, body in (
            ("/api/codes/check", {"code": code}),
            ("/api/responses", {"code": code, "sealed": "AAAA"}),
        ):
            reply = c.post(path, json=body)
            assert reply.status_code == 403 and reply.json()["error"] == "closed", path
            assert "終了" in reply.json()["message"] and reply.json()["message_en"]
        page = c.get("/").text
        assert "受付は終了しました" in page and "This survey has closed" in page
        assert "2026年8月3日" in page  # fieldwork_end plus the grace days
        assert "048-473-0000" in page and "健康政策課" in page and "平日 8:30〜17:15" in page
        assert "0120-279-338" in page  # the crisis lines, as on every page
        assert 'id="code-form"' not in page


def test_concurrent_first_requests_build_one_intake(issued: Issued) -> None:
    """Reproduces the defect: the first requests, arriving together in worker threads, each
    built an intake of their own (and with it a writer lock of their own)."""
    from survey.web.collector.app import Collector

    collector = Collector(issued.db.engine, issued.settings, date.today)
    barrier = threading.Barrier(16)
    built: list[int] = []

    def first_request() -> None:
        barrier.wait()
        built.append(id(collector.intake()[0]))

    threads = [threading.Thread(target=first_request) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 16 and len(set(built)) == 1
