"""The drawing primitives an item type lays its question out with on paper.

Each item type's ``paper(item, pen)`` (:mod:`survey.forms.items`) says how it is answered on
paper (its instruction, numbered options, a grid, digit boxes, a writing box); the pen draws
those the same way for every type, with what only the whole form knows: the question's
number, whom it is for, and where each option sends the reader.
"""

from __future__ import annotations

import math

from reportlab.lib.units import mm

from mailing.fonts import FontSet
from survey.forms.items import Variable, kind
from survey.forms.paper.layout import MIN_SIZE, WIDTH, Block
from survey.forms.paper.plan import Plan
from survey.forms.schema import MISSING, REFUSED, Item

QUESTION_SIZE = 12.0
SIZE = MIN_SIZE
LEADING = 1.45
INDENT = 7 * mm
BOX_W, BOX_H = 7.5 * mm, 6.2 * mm
GAP = 2 * mm
DIGIT_W, DIGIT_H = 8 * mm, 9 * mm
# Handwriting takes more room than print: about 6 mm a character, 8.5 mm a line.
HAND_CHAR, HAND_LINE = 6 * mm, 8.5 * mm
MAX_WRITING_LINES = 14
REFUSAL = MISSING[REFUSED][0]  # 「答えたくない」: an answer of its own (−7), not a blank
ROW_MARKS = "アイウエオカキクケコサシスセソタチツテト"


class PaperPen:
    """Lays out one question; the item type calls the methods, :meth:`finish` returns it."""

    def __init__(self, fonts: FontSet, plan: Plan, item: Item, plain: bool) -> None:
        self.fonts, self.plan, self.item = fonts, plan, item
        self.plain = plain  # the students' wording
        self.hint: str | None = None
        self.body = Block()

    # -- what the item types call -------------------------------------------------------
    def instruction(self, text: str | None) -> None:
        """How to answer (「1つに○」), printed after the question in brackets."""
        self.hint = text

    def options(self, var: Variable) -> None:
        """The options, each with its code in a box to circle, in as many columns as fit."""
        entries: list[tuple[int | None, str, str | None]] = [
            (o.code, o.label.ja, self.plan.skip_text(var.id, o.code)) for o in var.options
        ]
        if self.item.sensitive:
            entries.append((None, REFUSAL, None))
        width = WIDTH - INDENT
        need = max(self._entry_width(label, skip) for _, label, skip in entries)
        columns = next((n for n in (4, 3, 2) if n <= len(entries) and width / n >= need), 1)
        col_w = width / columns
        y = self.body.height + GAP
        for start in range(0, len(entries), columns):
            row_h = BOX_H
            for i, (code, label, skip) in enumerate(entries[start : start + columns]):
                x = INDENT + i * col_w
                row_h = max(row_h, self._entry(var, code, label, skip, x, y, col_w))
            y += row_h + 1.4 * mm
        self.body.height = y

    def grid(self, variables: tuple[Variable, ...]) -> None:
        """Rows sharing a scale as a table: one box per row and option (the K6)."""
        fonts, body = self.fonts, self.body
        options: list[tuple[int | None, str]] = [(o.code, o.label.ja) for o in variables[0].options]
        if self.item.sensitive:
            options.append((None, REFUSAL))
        col_w = min(19 * mm, (WIDTH - INDENT - 62 * mm) / len(options))
        left_w = WIDTH - INDENT - col_w * len(options)
        heads = [fonts.wrap(label, SIZE, col_w - 0.8 * mm) for _, label in options]
        head_h = max(len(h) for h in heads) * SIZE * 1.25 + 2 * mm
        top = body.height + GAP
        for c, lines in enumerate(heads):
            cx = INDENT + left_w + c * col_w
            for n, line in enumerate(lines):
                w = fonts.width(line, SIZE)
                body.text(cx + (col_w - w) / 2, top + (n + 1) * SIZE * 1.25 - 2, line, SIZE)
        y = top + head_h
        body.line(INDENT, y, INDENT + left_w + col_w * len(options), y, 0.8)
        for r, var in enumerate(variables):
            lines = fonts.wrap(
                f"{ROW_MARKS[r % len(ROW_MARKS)]}　{var.text.ja}", SIZE, left_w - 2 * mm
            )
            row_h = max(len(lines) * SIZE * LEADING, BOX_H) + 3 * mm
            if r % 2 == 0:  # every other row shaded: the eye keeps to its row across
                body.rect(INDENT, y, left_w + col_w * len(options), row_h, 0, fill=0.93)
            for n, line in enumerate(lines):
                body.text(INDENT + 1 * mm, y + 1.5 * mm + (n + 0.75) * SIZE * LEADING, line, SIZE)
            for c, (code, _) in enumerate(options):
                bx = INDENT + left_w + c * col_w + (col_w - BOX_W) / 2
                self._code_box(var, code, bx, y + (row_h - BOX_H) / 2)
            y += row_h
            body.line(INDENT, y, INDENT + left_w + col_w * len(options), y, 0.4)
        body.height = y + GAP

    def digits(self, var: Variable, count: int, unit: str | None, hint: str) -> None:
        """One box per digit, then the unit; the range said beside."""
        y = self.body.height + GAP
        x = INDENT
        for position in range(count):
            self.body.box("digit", var.id, position, x, y, DIGIT_W, DIGIT_H)
            x += DIGIT_W
        baseline = y + DIGIT_H * 0.7
        if unit:
            self.body.text(x + GAP, baseline, unit, SIZE)
            x += GAP + self.fonts.width(unit, SIZE)
        self.body.text(x + 2 * GAP, baseline, f"（{hint}）", SIZE)
        x += 2 * GAP + self.fonts.width(f"（{hint}）", SIZE)
        if self.item.sensitive:
            self._entry(var, None, REFUSAL, None, x + 4 * GAP, y + (DIGIT_H - BOX_H) / 2, WIDTH)
        self.body.height = y + DIGIT_H + GAP

    def writing(self, var: Variable, max_length: int, hint: str | None) -> None:
        """A ruled box with room for ``max_length`` handwritten characters (within reason)."""
        width = WIDTH - INDENT
        per_line = max(1, int(width // HAND_CHAR))
        lines = min(MAX_WRITING_LINES, max(1, math.ceil(max_length / per_line)))
        y = self.body.height + GAP
        if hint:
            self.body.height = y - GAP
            self.body.para(self.fonts, INDENT, hint, SIZE, width, LEADING)
            y = self.body.height + GAP
        self.body.box("text", var.id, None, INDENT, y, width, lines * HAND_LINE)
        for n in range(1, lines):
            self.body.line(
                INDENT + 2 * mm, y + n * HAND_LINE, INDENT + width - 2 * mm, y + n * HAND_LINE, 0.25
            )
        self.body.height = y + lines * HAND_LINE + GAP
        if self.item.sensitive:
            self._entry(var, None, REFUSAL, None, INDENT, self.body.height, width)
            self.body.height += BOX_H + GAP

    # -- the question around it ---------------------------------------------------------
    def finish(self) -> Block:
        fonts, item, block = self.fonts, self.item, Block()
        banner = self.plan.banners.get(item.id)
        if banner:
            block.para(fonts, 0, banner, SIZE, WIDTH, LEADING)
            block.gap(1 * mm)
        number = self.plan.number(item.id)
        label_w = fonts.width(number, QUESTION_SIZE) + 3 * mm
        room = WIDTH - label_w - GAP
        lines = fonts.wrap(item.text.ja, QUESTION_SIZE, room)
        if self.hint:  # the instruction is read as one: never split over two lines
            hint = f"（{self.hint}）"
            if fonts.width(lines[-1] + hint, QUESTION_SIZE) <= room:
                lines[-1] += hint
            else:
                lines.append(hint)
        top = block.height
        block.rect(0, top + 0.6 * mm, label_w, QUESTION_SIZE * 1.35, 0, fill=0)
        block.text(1.5 * mm, top + QUESTION_SIZE * 1.08, number, QUESTION_SIZE, white=True)
        for n, line in enumerate(lines):
            block.text(
                label_w + GAP, top + QUESTION_SIZE * (1.08 + n * LEADING), line, QUESTION_SIZE
            )
        block.height = top + len(lines) * QUESTION_SIZE * LEADING + 1 * mm
        if item.note:
            block.para(fonts, label_w + GAP, item.note.ja, SIZE, WIDTH - label_w - GAP, LEADING)
        block.add(self.body)
        block.gap(4 * mm)
        return block

    # -- parts ---------------------------------------------------------------------------
    def _entry_width(self, label: str, skip: str | None) -> float:
        extra = GAP + self.fonts.width(skip, SIZE) if skip else 0.0
        return BOX_W + GAP + self.fonts.width(label, SIZE) + extra + 4 * mm

    def _code_box(self, var: Variable, code: int | None, x: float, y: float) -> None:
        """A box holding the option's code (to circle), or empty for 「答えたくない」."""
        self.body.box(
            "option" if code is not None else "refusal",
            var.id,
            code if code is not None else REFUSED,
            x,
            y,
            BOX_W,
            BOX_H,
        )
        if code is not None:
            shown = str(code)
            w = self.fonts.width(shown, SIZE)
            self.body.text(x + (BOX_W - w) / 2, y + BOX_H * 0.72, shown, SIZE)

    def _entry(
        self,
        var: Variable,
        code: int | None,
        label: str,
        skip: str | None,
        x: float,
        y: float,
        col_w: float,
    ) -> float:
        """One option at (x, y): its box, its label (wrapped), where it sends the reader;
        returns the height taken."""
        self._code_box(var, code, x, y)
        skip_w = GAP + self.fonts.width(skip, SIZE) if skip else 0.0
        room = col_w - BOX_W - GAP - skip_w - 3 * mm
        lines = self.fonts.wrap(label, SIZE, room) or [""]
        tx = x + BOX_W + GAP
        for n, line in enumerate(lines):
            self.body.text(tx, y + BOX_H * 0.72 + n * SIZE * LEADING, line, SIZE)
        if skip:
            end = tx + self.fonts.width(lines[-1], SIZE) + GAP
            self.body.text(end, y + BOX_H * 0.72 + (len(lines) - 1) * SIZE * LEADING, skip, SIZE)
        return max(BOX_H, BOX_H * 0.72 + (len(lines) - 1) * SIZE * LEADING + SIZE * 0.4)


def question(fonts: FontSet, plan: Plan, item: Item, plain: bool) -> Block:
    """An item as printed: its type lays the answer out (``ItemKind.paper``)."""
    pen = PaperPen(fonts, plan, item, plain)
    kind(item).paper(item, pen)
    return pen.finish()
