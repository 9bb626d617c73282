"""A drawn study with an installed study key, and poppler helpers."""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path

import nacl.public
import pytest

from tests.conftest import SMALL_ALLOCATION, require_program

PUBLIC_URL = "https://survey.city.example.jp"


def poppler(tool: str, *args: str) -> str:
    require_program(f"poppler-utils ({tool})", shutil.which(tool) is not None)
    return subprocess.run([tool, *args], capture_output=True, text=True, check=True).stdout


def pdf_text(path: Path, first: int | None = None, last: int | None = None) -> str:
    pages = [*(("-f", str(first)) if first else ()), *(("-l", str(last)) if last else ())]
    return poppler("pdftotext", "-layout", *pages, str(path), "-")


def pdf_pages(path: Path) -> list[str]:
    return pdf_text(path).split("\f")[:-1]


def fonts_embedded(path: Path) -> list[tuple[str, str]]:
    """(font name, emb) for every font in the PDF."""
    lines = poppler("pdffonts", str(path)).splitlines()[2:]
    return [(line.split()[0], line.split()[-5]) for line in lines]


@pytest.fixture
def drawn(run, synth_register: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A study drawn from the small synthetic city, with a study public key installed."""
    monkeypatch.setenv("SURVEY_PUBLIC_URL", PUBLIC_URL)
    result = run(
        "sample",
        "--register",
        str(synth_register),
        "--as-of",
        "2026-04-01",
        "--allocation",
        SMALL_ALLOCATION,
        "--seed",
        "cd" * 32,
    )
    assert result.exit_code == 0, result.stderr
    public = bytes(nacl.public.PrivateKey.generate().public_key)
    assert run("keys", "set-public", base64.b64encode(public).decode()).exit_code == 0
    return run
