"""Regenerate the README's pictures from a fresh demo: ``make screenshots``.

Runs ``survey demo --no-serve`` in a temporary folder, renders a code slip and both sides of
a reminder postcard with poppler (``pdftoppm``), serves the demo with ``survey serve`` and
takes, in Chromium (Playwright, Debian's ``/usr/bin/chromium``), the form on a phone (360 px)
and the dashboard on a desktop (1280 px). Writes ``docs/form-phone.png``,
``docs/dashboard.png``, ``docs/slip.png`` and ``docs/postcard.png``. Everything shown is the
demo's synthetic city; nothing leaves this machine.
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from PIL import Image
from playwright.sync_api import sync_playwright

DOCS = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
# The address a city would print (slips, postcards); the pictures of pages use the local one.
PUBLIC_URL = "https://survey.city.example.jp"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def pdf_page(pdf: Path, page: int, out: Path, dpi: int = 150) -> Image.Image:
    stem = out.with_suffix("")
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-f",
            str(page),
            "-l",
            str(page),
            "-png",
            "-singlefile",
            str(pdf),
            str(stem),
        ],
        check=True,
    )
    return Image.open(stem.with_suffix(".png")).convert("RGB")


def page_of(pdf: Path, text: str) -> int:
    """The first page of ``pdf`` whose text holds ``text``."""
    pages = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout.split("\f")
    return next(i for i, p in enumerate(pages, 1) if text in p)


def framed(image: Image.Image, pad: int = 16, background: str = "#d9d9d9") -> Image.Image:
    out = Image.new("RGB", (image.width + 2 * pad, image.height + 2 * pad), background)
    out.paste(image, (pad, pad))
    return out


def print_files(demo: Path, work: Path) -> None:
    slips = demo / "code-slips.pdf"
    sheet = pdf_page(slips, page_of(slips, PUBLIC_URL), work / "slip")  # a web cohort's
    # One slip: the top-left quarter of a sheet of four (A6 on A4).
    slip = sheet.crop((0, 0, sheet.width // 2, sheet.height // 2))
    framed(slip).save(DOCS / "slip.png", optimize=True)
    cards = demo / "postcards.pdf"
    front = page_of(cards, PUBLIC_URL) - 1  # a web cohort's card: its message side has the QR
    sides = [pdf_page(cards, front, work / "front"), pdf_page(cards, front + 1, work / "back")]
    pad = 16
    both = Image.new(
        "RGB", (sum(s.width for s in sides) + 3 * pad, sides[0].height + 2 * pad), "#d9d9d9"
    )
    both.paste(sides[0], (pad, pad))
    both.paste(sides[1], (2 * pad + sides[0].width, pad))
    both.save(DOCS / "postcard.png", optimize=True)


def screens(base: str, demo: Path) -> None:
    with (demo / "codes.csv").open(encoding="utf-8") as fh:
        code = next(r["code"] for r in csv.DictReader(fh) if r["cohort"] == "general")
    accounts = dict(
        line.split("\t") for line in (demo / "accounts.txt").read_text("utf-8").splitlines()
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        phone = browser.new_context(
            viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True
        )
        page = phone.new_page()
        page.goto(f"{base}/#code={code}")
        page.wait_for_selector("#start:not([hidden])")
        page.click("#code-submit")
        page.wait_for_selector("#survey-form")
        page.check("#in-sex-2")
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(DOCS / "form-phone.png"))
        phone.close()
        desktop = browser.new_context(viewport={"width": 1280, "height": 800})
        page = desktop.new_page()
        page.goto(f"{base}/office/login")
        page.fill("#username", "officer")
        page.fill("#password", accounts["officer"])
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/office/")
        page.goto(f"{base}/office/studies/demo/dashboard")
        page.wait_for_function("() => document.querySelector('figure img').complete")
        page.screenshot(path=str(DOCS / "dashboard.png"), full_page=True)
        desktop.close()
        browser.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="survey-screenshots-") as folder:
        root = Path(folder)
        env = {
            **os.environ,
            "SURVEY_DATA_DIR": str(root / "var"),
            "SURVEY_KEY_DIR": str(root / "keys"),
            "SURVEY_KEY_PASSPHRASE": "",
            "SURVEY_PUBLIC_URL": PUBLIC_URL,
        }
        for key in ("SURVEY_DATABASE_URL", "SURVEY_STUDY"):
            env.pop(key, None)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        subprocess.run(
            [str(BIN / "survey"), "demo", "--no-serve", "--port", str(port)],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        demo = root / "var" / "demo"
        print_files(demo, root)
        server = subprocess.Popen(
            [str(BIN / "survey"), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(200):
                try:
                    httpx.get(f"{base}/healthz")
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
            screens(base, demo)
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    for name in ("form-phone", "dashboard", "slip", "postcard"):
        print(DOCS / f"{name}.png")


if __name__ == "__main__":
    main()
