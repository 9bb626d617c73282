"""Invariant 4 on the real server: after submissions through ``survey-collector serve`` (two
worker processes, as in production), the collector's
database (file, WAL) and its log hold no client address, no user agent, no time of day, no
plaintext answer and no access code."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from survey.codes import normalize
from tests.conftest import Issued
from tests.helpers import CANARY, STUDY_PUBLIC_KEY, seal
from tests.web.conftest import free_port

SERVER_HOST = "127.0.0.2"
CLIENT_HOST = "127.0.0.3"  # the client's own loopback address, so it cannot be confused
AGENT = "CanaryAgent/9.9 (Linux; canary-device-XYZZY)"
TIME_OF_DAY = re.compile(rb"\b\d{1,2}:\d{2}:\d{2}\b")


def start_server(issued: Issued, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "SURVEY_DATA_DIR": str(issued.settings.data_dir),
        "SURVEY_KEY_DIR": str(issued.settings.key_dir),
        "SURVEY_UNKNOWN_CODE_LIMIT": "1000",
    }
    exe = Path(sys.executable).parent / "survey-collector"
    cmd = [str(exe), "serve", "--workers", "2", "--host", SERVER_HOST, "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://{SERVER_HOST}:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(base + "/healthz", timeout=1)
            return proc, base
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(log.read_text()) from None
            time.sleep(0.1)


def database_bytes(issued: Issued) -> bytes:
    return b"".join(p.read_bytes() for p in issued.settings.data_dir.glob("survey.sqlite3*"))


@pytest.mark.sqlite_only  # the SQLite file itself
def test_no_address_agent_time_or_plaintext_is_kept(issued: Issued, intake, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "collector.log"
    # Staff actions in the office's audit log (the same file in one-process mode) carry a
    # time; what the collector adds must not.
    times_before = set(TIME_OF_DAY.findall(database_bytes(issued)))
    proc, base = start_server(issued, log)
    form = intake.check(issued.codes["general"][0]).form
    codes = issued.codes["general"][:5]
    try:
        transport = httpx.HTTPTransport(local_address=CLIENT_HOST)
        headers = {"User-Agent": AGENT, "X-Forwarded-For": CLIENT_HOST}
        with httpx.Client(base_url=base, transport=transport, headers=headers) as client:
            assert client.get("/").status_code == 200
            assert client.get("/api/study").status_code == 200
            for code in codes:
                assert client.post("/api/codes/check", json={"code": code}).status_code == 200
                sealed = seal(STUDY_PUBLIC_KEY, form, {"opinion": CANARY, "ideation_ever": 1})
                reply = client.post("/api/responses", json={"code": code, "sealed": sealed})
                assert reply.status_code == 201
            assert (
                client.post("/api/codes/check", json={"code": "0000-0000-0000-0"}).status_code
                == 404
            )
            assert client.post("/api/responses", content=b"{").status_code == 400
            assert client.get("/nowhere").status_code == 404
        while_running = database_bytes(issued)
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
    after = database_bytes(issued)
    logged = log.read_bytes()
    assert b"Uvicorn running" in logged  # the log was captured
    for blob, where in ((while_running, "database+WAL"), (after, "database"), (logged, "log")):
        assert CLIENT_HOST.encode() not in blob, where
        assert b"CanaryAgent" not in blob and b"canary-device" not in blob, where
        assert CANARY.encode() not in blob, where
        allowed = set() if where == "log" else times_before  # the log has no times at all
        assert set(TIME_OF_DAY.findall(blob)) <= allowed, where
        for code in codes:
            assert normalize(code).encode() not in blob and code.encode() not in blob, where
