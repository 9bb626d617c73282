"""The printed questionnaire: one A4 booklet per form, with its box map.

Pages are laid out once (the cover, the sections and their questions, the crisis lines after
the section that asks about suicidal ideation, blank pages so the count is a multiple of 4,
the back page), drawn once each into a PDF form, and repeated for every booklet; only the
access code (in its boxes and, for web-enabled cohorts, in the QR code's link) differs from
booklet to booklet. The code never appears in the footer, which says form, version and page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reportlab.lib.units import mm

from mailing.blocks import qr
from mailing.fonts import FontSet
from mailing.pdf import new_canvas
from mailing.slips import code_url
from survey.forms.loader import Form
from survey.forms.paper import cover as covers
from survey.forms.paper.layout import (
    MARGIN_X,
    MARK_SIZE,
    PAGE_H,
    PAGE_W,
    TOP,
    WIDTH,
    Block,
    corner_marks,
    draw,
    draw_frame,
    flow,
    page_boxes,
)
from survey.forms.paper.pen import question
from survey.forms.paper.plan import plan
from survey.forms.schema import Item

MAP_FORMAT = "survey-paper-boxes/1"
CODE_SIZE = 18.0


def section_title(fonts: FontSet, title: str) -> Block:
    block = Block(keep_with_next=True)
    block.gap(1 * mm)
    height = 9 * mm
    block.rect(0, block.height, WIDTH, height, 0, fill=0.82)
    block.text(3 * mm, block.height + height * 0.68, title, 13.0)
    block.height += height + 4 * mm
    return block


def blank_page() -> Block:
    block = Block()
    block.text(WIDTH / 2 - 30, 120 * mm, "（このページは白紙です）", 11.0)
    block.height = 1
    return block


def layout(form: Form, fonts: FontSet, c: covers.Cover) -> list[Block]:
    """Every page of one booklet (coordinates from the content area's top left)."""
    p = plan(form)
    blocks = covers.cover_blocks(c, fonts)
    for section in form.sections:
        blocks.append(section_title(fonts, section.title.ja))
        for entry in section.items:
            if isinstance(entry, Item):
                blocks.append(question(fonts, p, entry, c.plain))
        if section.crisis_after:
            # As on the web: right after the questions on suicidal ideation.
            blocks.append(covers.crisis_box(c, fonts, prominent=True))
    pages = flow(blocks)
    back = flow(covers.back_blocks(c, fonts))
    assert len(back) == 1, "the back page holds the thanks, the crisis lines and the enquiry"
    while (len(pages) + 1) % 4:  # a booklet is folded sheets: four pages each
        pages.append(blank_page())
    return [*pages, *back]


def footer(form: Form, page: int, total: int) -> str:
    return f"{form.id}　第{form.version}版　{page} / {total}"


def box_map(form: Form, pages: list[Block], booklets: int) -> dict[str, Any]:
    def r(v: float) -> float:
        return round(v / mm, 2)

    return {
        "format": MAP_FORMAT,
        "form": form.id,
        "version": form.version,
        "cohort": form.cohort,
        "unit": "mm",
        "origin": "top-left",
        "page_size": [r(PAGE_W), r(PAGE_H)],
        "pages_per_booklet": len(pages),
        "booklets": booklets,
        "corner_marks": [
            {"x": r(x), "y": r(y), "w": r(MARK_SIZE), "h": r(MARK_SIZE)} for x, y in corner_marks()
        ],
        "boxes": [b for n, page in enumerate(pages, 1) for b in page_boxes(page, n)],
    }


def map_path(pdf: Path) -> Path:
    """The box map beside the PDF: FILE.pdf → FILE.boxes.json."""
    return pdf.with_suffix(".boxes.json")


def write_booklets(
    path: Path,
    form: Form,
    fonts: FontSet,
    values: dict[str, Any],
    web: bool,
    public_url: str,
    fingerprint: str | None,
    codes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """One booklet per code (``codes``, canonical) or one blank master; returns the box map,
    also written to :func:`map_path`."""
    c = covers.Cover(form, values, web, public_url, fingerprint, codes is not None)
    pages = layout(form, fonts, c)
    canvas = new_canvas(path, form.source.title.ja, fonts)
    for n, page in enumerate(pages, 1):
        canvas.beginForm(f"page{n}")
        draw_frame(canvas, fonts, footer(form, n, len(pages)))
        draw(canvas, fonts, page, MARGIN_X, TOP)
        canvas.endForm()
    # What differs per booklet, and the page each is on (a long cover runs onto page 2).
    code_boxes = sorted(
        ((n, b) for n, page in enumerate(pages, 1) for b in page.boxes if b.kind == "code"),
        key=lambda nb: nb[1].code or 0,
    )
    qr_box = next(
        ((n, b) for n, page in enumerate(pages, 1) for b in page.boxes if b.kind == "qr"), None
    )
    for code in codes if codes is not None else [None]:
        for n in range(1, len(pages) + 1):
            canvas.doForm(f"page{n}")
            if code is not None:
                for (on, b), symbol in zip(code_boxes, code, strict=True):
                    if on == n:
                        w = fonts.width(symbol, CODE_SIZE)
                        x = MARGIN_X + b.x + (b.w - w) / 2
                        fonts.draw(canvas, x, TOP - b.dy - b.h * 0.75, symbol, CODE_SIZE)
            if qr_box is not None and qr_box[0] == n and public_url:
                # The generic address, or (with codes) the link that holds the code in the
                # fragment only, which browsers never send to a server.
                url = code_url(public_url, code) if code is not None else public_url
                b = qr_box[1]
                qr(canvas, url, MARGIN_X + b.x, TOP - b.dy - b.h, b.w)
            canvas.showPage()
    canvas.save()
    doc = box_map(form, pages, len(codes) if codes is not None else 1)
    map_path(path).write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return doc
