"""Blocks every print file shares: the crisis lines as a small table, the office's enquiry
line and sender block, the QR code, the postage mark.

Each block is laid out first (:class:`Block`: text runs placed below a top edge, with the
height they take), then drawn, so a page can check that its blocks fit before drawing any.
A number (a phone number, an SNS handle) is one run: it is never split across lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import segno
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from mailing.fonts import FontSet
from survey.public import Contact, tel

# Crisis lines are read by people in distress: never smaller than this (points).
CRISIS_SIZE = 9.0
CRISIS_HEADING = "つらいとき、ひとりで悩まずに相談してください"


@dataclass(frozen=True, slots=True)
class Run:
    dx: float  # from the block's left edge
    dy: float  # baseline, below the block's top edge
    text: str
    size: float


@dataclass
class Block:
    """Text runs below a top edge; ``height`` is how far down they reach."""

    runs: list[Run] = field(default_factory=list)
    height: float = 0.0

    def line(self, text: str, size: float, dx: float = 0.0, leading: float = 1.3) -> None:
        """One line below what is there (its own baseline)."""
        self.height += size * leading
        self.runs.append(Run(dx, self.height - size * 0.25 * leading, text, size))

    def para(
        self, fonts: FontSet, text: str, size: float, width: float, leading: float = 1.35
    ) -> None:
        for part in fonts.wrap(text, size, width) or [""]:
            self.line(part, size, leading=leading)

    def gap(self, points: float) -> None:
        self.height += points

    def add(self, other: Block, gap: float = 0.0) -> None:
        """``other`` below this block (after ``gap`` points, if this one holds anything)."""
        if not other.runs:
            return
        if self.runs:
            self.height += gap
        self.runs += [Run(r.dx, r.dy + self.height, r.text, r.size) for r in other.runs]
        self.height += other.height

    def draw(self, canvas: Canvas, fonts: FontSet, x: float, y_top: float) -> float:
        """Draw with the top edge at ``y_top``; returns the y reached (the block's bottom)."""
        for run in self.runs:
            fonts.draw(canvas, x + run.dx, y_top - run.dy, run.text, run.size)
        return y_top - self.height


def crisis_table(
    fonts: FontSet,
    lines: Sequence[dict[str, str]],
    width: float,
    size: float = CRISIS_SIZE,
    heading: str = CRISIS_HEADING,
) -> Block:
    """The crisis lines, one row per service: name, number, hours where known.

    The numbers and the hours form columns; a name too long for its column wraps within it.
    A "number" that is no phone number and does not fit its column (an SNS handle) goes on
    a line of its own under the name, right-aligned: split, never.
    """
    block = Block()
    block.para(fonts, heading, size, width)
    gap = size * 0.7
    phones = [line["number"] for line in lines if tel(line["number"])]
    number_w = max((fonts.width(n, size) for n in phones), default=0.0)
    hours_w = max((fonts.width(line["hours"], size) for line in lines), default=0.0)
    name_w = width - number_w - gap - (hours_w + gap if hours_w else 0.0)
    number_x, hours_x = name_w + gap, name_w + gap + number_w + gap
    for line in lines:
        number, hours = line["number"], line["hours"]
        room = width - number_x - (hours_w + gap if hours_w else 0.0)
        beside = fonts.width(number, size) <= room + 0.01  # the widest phone fills it exactly
        # Beside its name in the number column, or (too wide for it) on a line of its own
        # under the name, which then has the whole width.
        names = fonts.wrap(line["name"], size, name_w if beside else width) or [""]
        block.line(names[0], size)
        first = block.runs[-1].dy
        for more in names[1:]:
            block.line(more, size)
        if beside:
            block.runs.append(Run(number_x, first, number, size))
            if hours:
                block.runs.append(Run(hours_x, first, hours, size))
        else:
            shown = f"{number}　{hours}" if hours else number
            block.line(shown, size, dx=max(0.0, width - fonts.width(shown, size)))
    return block


def crisis_numbers(lines: Sequence[dict[str, str]]) -> list[str]:
    """What a print file must show unbroken (the test extracts each page and looks)."""
    return [line["number"] for line in lines]


def enquiry(fonts: FontSet, contact: Contact, size: float, width: float) -> Block:
    """「お問い合わせ」 and who to call, on as few lines as fit; empty when nothing is set."""
    block = Block()
    if not contact.given:
        return block
    block.para(fonts, f"お問い合わせ　{contact.name}".rstrip(), size, width)
    if contact.phone:
        block.para(fonts, contact.phone_line(), size, width)
    return block


def sender(fonts: FontSet, contact: Contact, size: float, width: float) -> Block:
    """The sender block (差出人) of a postcard: address, organisation and section, phone."""
    block = Block()
    if not contact.sender_lines():
        return block
    block.line("差出人", size * 0.85)
    for text in contact.sender_lines():
        block.para(fonts, text, size, width)
    return block


def qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> float:
    """A QR code (error correction M) as one vector path, dark runs merged row by row, its
    lower left corner at (x, y). Returns the module size: the caller keeps a quiet zone of
    four modules clear around it, which scanners need."""
    matrix = segno.make_qr(url, error="m", boost_error=False).matrix
    module = size / len(matrix)
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        top = y + size - (r + 1) * module
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(x + start * module, top, (c - start) * module, module)
            else:
                c += 1
    canvas.drawPath(path, stroke=0, fill=1)
    return module


POSTAGE_TEXT = {"後納": "料金後納", "別納": "料金別納"}


def postage_mark(
    canvas: Canvas, fonts: FontSet, values: dict[str, Any], x: float, y_top: float
) -> bool:
    """Japan Post's mark for postage paid later (料金後納) or paid in bulk (料金別納), in the
    stamp's place (top left): the permit's post office, the kind, 郵便, in a square frame.
    Nothing for ``postage_mark=none`` (stamps or a printed stamp). Returns whether drawn."""
    kind = POSTAGE_TEXT.get(str(values.get("postage_mark") or "none"))
    if kind is None:
        return False
    side = 20 * mm
    canvas.saveState()
    canvas.setLineWidth(0.8)
    canvas.rect(x, y_top - side, side, side, stroke=1, fill=0)
    canvas.restoreState()
    rows = [str(values.get("postage_permit") or ""), kind, "郵便"]
    rows = [r for r in rows if r]
    step = side / (len(rows) + 1)
    for i, text in enumerate(rows):
        size = fonts.fit(text, 9.0, side - 3 * mm, 5.0)
        w = fonts.width(text, size)
        fonts.draw(canvas, x + (side - w) / 2, y_top - step * (i + 1) - size * 0.35, text, size)
    return True
