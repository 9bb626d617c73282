"""Poppler helpers for the PDF tests (the ``drawn`` study fixture is in tests/conftest.py)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import (
    PUBLIC_URL,  # noqa: F401  (re-exported for the mailing tests)
    require_program,
)


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
