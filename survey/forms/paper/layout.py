"""Page geometry of the printed questionnaire: blocks laid out before they are drawn.

A :class:`Block` is a list of drawing operations below its top edge, with its height and the
boxes a respondent marks (each named by variable and code). Blocks flow down the pages of a
booklet (a block is never split; a section title stays with its first question), then every
page is drawn once into a PDF form (an XObject) that each booklet repeats: all booklets share
the same box positions exactly, which the box map records for a later scanning step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from mailing.fonts import FontSet

PAGE_W, PAGE_H = A4
MARGIN_X = 20 * mm
TOP = PAGE_H - 20 * mm
BOTTOM = 24 * mm
WIDTH = PAGE_W - 2 * MARGIN_X
# Solid squares near the corners: a scanner finds the page's position and skew from them.
MARK_SIZE, MARK_INSET = 5 * mm, 8 * mm
FOOTER_Y = 12 * mm
# The smallest type anywhere on the paper (older respondents read it; the rule).
MIN_SIZE = 11.0


@dataclass(frozen=True, slots=True)
class Box:
    """A place to mark or write: ``kind`` option, refusal, digit, text or code."""

    kind: str
    var: str | None
    code: int | None
    x: float  # left edge, from the block's (later the page's) left
    dy: float  # top edge, below the block's (later the page's) top
    w: float
    h: float


@dataclass
class Block:
    ops: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    height: float = 0.0
    keep_with_next: bool = False
    page_break_after: bool = False

    def text(self, x: float, baseline: float, text: str, size: float, white: bool = False) -> None:
        assert size >= MIN_SIZE, (text, size)
        self.ops.append(("text", (x, baseline, text, size, white)))

    def rect(
        self, x: float, dy: float, w: float, h: float, line: float = 0.8, fill: float | None = None
    ) -> None:
        """A rectangle with its top left at (x, dy); ``fill`` a grey level (0 black, 1 white)."""
        self.ops.append(("rect", (x, dy, w, h, line, fill)))

    def line(self, x1: float, dy1: float, x2: float, dy2: float, width: float = 0.5) -> None:
        self.ops.append(("line", (x1, dy1, x2, dy2, width)))

    def box(
        self,
        kind: str,
        var: str | None,
        code: int | None,
        x: float,
        dy: float,
        w: float,
        h: float,
        line: float = 0.9,
    ) -> None:
        self.rect(x, dy, w, h, line)
        self.boxes.append(Box(kind, var, code, x, dy, w, h))

    def para(
        self, fonts: FontSet, x: float, text: str, size: float, width: float, leading: float = 1.45
    ) -> None:
        """Wrapped lines below what is there."""
        for part in fonts.wrap(text, size, width) or [""]:
            self.height += size * leading
            self.text(x, self.height - size * 0.35 * leading, part, size)

    def gap(self, points: float) -> None:
        self.height += points

    def add(self, other: Block, dx: float = 0.0) -> None:
        """``other`` below what is there."""
        self.place(other, dx, self.height)
        self.height += other.height

    def place(self, other: Block, dx: float, dy: float) -> None:
        for op, args in other.ops:
            self.ops.append((op, _moved(op, args, dx, dy)))
        self.boxes += [
            Box(b.kind, b.var, b.code, b.x + dx, b.dy + dy, b.w, b.h) for b in other.boxes
        ]


def _moved(op: str, args: tuple[Any, ...], dx: float, dy: float) -> tuple[Any, ...]:
    if op == "line":
        x1, y1, x2, y2, w = args
        return (x1 + dx, y1 + dy, x2 + dx, y2 + dy, w)
    return (args[0] + dx, args[1] + dy, *args[2:])


def flow(blocks: list[Block]) -> list[Block]:
    """Blocks placed down pages; returns one block per page (coordinates from the content
    area's top left)."""
    pages = [Block()]
    room = TOP - BOTTOM
    pending: list[Block] = []  # blocks kept with the next one
    for block in blocks:
        pending.append(block)
        if block.keep_with_next:
            continue
        height = sum(b.height for b in pending)
        page = pages[-1]
        if page.height and page.height + height > room:
            pages.append(page := Block())
        for b in pending:
            page.add(b)
        pending = []
        if block.page_break_after:
            pages.append(Block())
    if not pages[-1].ops:
        pages.pop()
    return pages


def corner_marks() -> list[tuple[float, float]]:
    """The marks' top left corners, from the page's top left (points)."""
    far_x, far_y = PAGE_W - MARK_INSET - MARK_SIZE, PAGE_H - MARK_INSET - MARK_SIZE
    return [(MARK_INSET, MARK_INSET), (far_x, MARK_INSET), (MARK_INSET, far_y), (far_x, far_y)]


def draw(canvas: Canvas, fonts: FontSet, block: Block, x0: float, top: float) -> None:
    """Draw a block with its top left at (x0, top) in PDF coordinates."""
    for op, args in block.ops:
        if op == "text":
            x, baseline, text, size, white = args
            canvas.setFillGray(1 if white else 0)
            fonts.draw(canvas, x0 + x, top - baseline, text, size)
            canvas.setFillGray(0)
        elif op == "rect":
            x, dy, w, h, line, fill = args
            canvas.setLineWidth(line)
            if fill is not None:
                canvas.setFillGray(fill)
            canvas.rect(
                x0 + x, top - dy - h, w, h, stroke=1 if line else 0, fill=0 if fill is None else 1
            )
            canvas.setFillGray(0)
        else:
            x1, y1, x2, y2, w = args
            canvas.setLineWidth(w)
            canvas.line(x0 + x1, top - y1, x0 + x2, top - y2)


def draw_frame(canvas: Canvas, fonts: FontSet, footer: str) -> None:
    """What every page has: the corner marks and the footer (form, version, page)."""
    canvas.setFillGray(0)
    for x, y in corner_marks():
        canvas.rect(x, PAGE_H - y - MARK_SIZE, MARK_SIZE, MARK_SIZE, stroke=0, fill=1)
    width = fonts.width(footer, MIN_SIZE)
    fonts.draw(canvas, (PAGE_W - width) / 2, FOOTER_Y, footer, MIN_SIZE)


def page_boxes(block: Block, page: int) -> list[dict[str, Any]]:
    """The box map's entries of one page: millimetres from the page's top left."""

    def r(v: float) -> float:
        return round(v / mm, 2)

    return [
        {
            "page": page,
            "kind": b.kind,
            "var": b.var,
            "code": b.code,
            "x": r(MARGIN_X + b.x),
            "y": r(PAGE_H - TOP + b.dy),
            "w": r(b.w),
            "h": r(b.h),
        }
        for b in block.boxes
    ]
