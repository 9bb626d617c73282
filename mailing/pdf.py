"""PDF building blocks shared by labels, postcards and code slips."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import BinaryIO

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

import survey
from mailing.fonts import FontSet

CONFIDENTIAL = "個人情報を含みます・取扱注意（使用後は survey の消去手続で廃棄）"


def page_size(canvas: Canvas) -> tuple[float, float]:
    size: tuple[float, float] = canvas._pagesize  # type: ignore[attr-defined]
    return size


def new_canvas(
    path: Path | BinaryIO, title: str, fonts: FontSet, pagesize: tuple[float, float] = A4
) -> Canvas:
    # invariant=1 fixes the creation date and document id, so the same input gives the same
    # bytes: golden-file tests and SHA-256 records of print files stay meaningful.
    # The initial font is ours too (the stubs wrongly type it as float): reportlab's default
    # (Helvetica) would be referenced without being embedded.
    canvas = Canvas(
        str(path) if isinstance(path, Path) else path,  # a file object: rendered in memory
        pagesize=pagesize,
        invariant=1,
        pageCompression=1,
        initialFontName=fonts.main,  # type: ignore[arg-type]
    )
    canvas.setTitle(title)
    canvas.setAuthor("survey-platform")
    canvas.setCreator(f"survey-platform {survey.__version__}")
    return canvas


def draw_lines(
    canvas: Canvas,
    fonts: FontSet,
    x: float,
    y_top: float,
    lines: Sequence[tuple[str, float]],
    max_width: float,
    leading: float = 1.35,
) -> float:
    """Draw (text, size) lines downwards from ``y_top``, wrapping; return the y reached."""
    y = y_top
    for text, size in lines:
        for part in fonts.wrap(text, size, max_width) or [""]:
            y -= size * leading
            fonts.draw(canvas, x, y, part, size)
    return y


def header_sheet(
    canvas: Canvas,
    fonts: FontSet,
    title: str,
    lines: Sequence[str],
    confidential: bool = True,
) -> None:
    """A batch header sheet (「… バッチ見出し」): what follows and how it is distributed.

    Sized to the page, so that it also fits a postcard.
    """
    width, height = page_size(canvas)
    scale = min(1.0, width / A4[0])
    x = 20 * mm * scale
    title = f"{title}　バッチ見出し"
    title_size = fonts.fit(title, 20, width - 2 * x, 9)
    fonts.draw(canvas, x, height - 30 * mm * scale, title, title_size)
    size = max(7.0, 13 * scale)
    body = [(line, size) for line in lines]
    if confidential:
        body.append(("", size))
        body.append((CONFIDENTIAL, size * 0.85))
    body.append((f"作成日 {date.today().isoformat()}", size * 0.8))
    draw_lines(canvas, fonts, x, height - 40 * mm * scale, body, width - 2 * x, leading=1.6)
    canvas.showPage()


def cut_marks(
    canvas: Canvas, xs: Sequence[float], ys: Sequence[float], length: float = 4 * mm
) -> None:
    """Short marks on the page edges at every cut line, and small crosses where cuts meet."""
    width, height = page_size(canvas)
    canvas.saveState()
    canvas.setLineWidth(0.3)
    for x in xs:
        canvas.line(x, 0, x, length)
        canvas.line(x, height - length, x, height)
    for y in ys:
        canvas.line(0, y, length, y)
        canvas.line(width - length, y, width, y)
    arm = 1.5 * mm
    for x in xs:
        for y in ys:
            canvas.line(x - arm, y, x + arm, y)
            canvas.line(x, y - arm, x, y + arm)
    canvas.restoreState()
