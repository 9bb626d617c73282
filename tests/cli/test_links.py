"""``survey serve`` and ``survey demo`` print links and a QR code for the address served."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from survey.cli.links import qr_text, served_base
from tests.web.conftest import free_port

# segno's compact terminal output: each character is two modules, upper and lower (light).
HALVES = {"█": (1, 1), "▀": (1, 0), "▄": (0, 1), " ": (0, 0)}


def decode(text: str) -> list[str]:
    """Read a QR code printed with block characters back, with an independent reader."""
    import zxingcpp
    from PIL import Image

    rows = [line for line in text.splitlines() if line]
    width, scale = max(len(r) for r in rows), 8
    image = Image.new("L", (width * scale, 2 * len(rows) * scale), 255)
    for y, row in enumerate(rows):
        for x, ch in enumerate(row):
            for half, light in enumerate(HALVES[ch]):
                if not light:
                    box = (
                        x * scale,
                        (2 * y + half) * scale,
                        (x + 1) * scale,
                        (2 * y + half + 1) * scale,
                    )
                    image.paste(0, box)
    return [r.text for r in zxingcpp.read_barcodes(image)]


def test_the_terminal_qr_code_scans_to_the_address() -> None:
    assert decode(qr_text("http://192.168.10.5:8123/")) == ["http://192.168.10.5:8123/"]


def test_the_address_is_the_one_browsers_reach() -> None:
    assert served_base("127.0.0.1", 8123) == "http://127.0.0.1:8123"
    assert served_base("::1", 8123) == "http://[::1]:8123"
    anywhere = "0.0.0.0"  # noqa: S104  (what --host may say; never what a browser opens)
    everywhere = served_base(anywhere, 8123)
    assert everywhere.endswith(":8123") and anywhere not in everywhere


# The addresses printed do not depend on the database: SQLite only.
@pytest.mark.sqlite_only
def test_serve_prints_links_and_a_qr_code_for_the_port_served(run, env: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    assert run("db", "upgrade").exit_code == 0
    port = free_port()
    exe = Path(sys.executable).parent / "survey"
    process = subprocess.Popen(
        [str(exe), "serve", "--port", str(port)],
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    lines: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if line.startswith("▀"):  # the QR code's last line
                break
        shown = "".join(lines)
        assert f"回答画面 / public form: {base}/\n" in shown
        assert f"事務局 / office: {base}/office/\n" in shown
        qr = shown[shown.index("QR code of the public form") :].split("\n", 1)[1]
        assert decode(qr) == [f"{base}/"]
        for _ in range(100):  # and it is where the server answers
            try:
                reply = httpx.get(f"{base}/office/login")
                break
            except httpx.ConnectError:
                time.sleep(0.1)
        assert reply.status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
