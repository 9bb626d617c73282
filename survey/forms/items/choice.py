"""One code from a list: ``single`` (radio buttons), ``select`` (a drop-down) and ``grid`` (rows
that share a scale, each row a single choice of its own)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from survey.forms.items.base import (
    MISSING_CODES,
    OneVariable,
    Variable,
    codebook_entry,
    longest,
    missing_code,
    typed_codes,
    whole_number,
)
from survey.forms.schema import INVALID, Item, Text

if TYPE_CHECKING:
    from survey.forms.paper.pen import PaperPen


def validate_code(var: Variable, raw: Any) -> Any:
    """One of the options' codes; several marks (a list of more than one) are invalid (−8)."""
    missing = missing_code(var, raw)
    if missing is not None:
        return missing
    if isinstance(raw, list):
        # Marks as keyed from paper: one mark is that answer, two or more cannot be right.
        one = len(raw) == 1 and not isinstance(raw[0], list)
        return validate_code(var, raw[0]) if one else INVALID
    code = whole_number(raw)
    return code if code is not None and code in {o.code for o in var.options} else INVALID


class Single(OneVariable):
    name = "single"
    choice = True
    web_template = "items/choice.html"

    def longest_answer(self, var: Variable) -> Any:
        return longest([*(o.code for o in var.options), *MISSING_CODES])

    def validate(self, var: Variable, raw: Any) -> Any:
        return validate_code(var, raw)

    def keyed(self, var: Variable, typed: str) -> Any:
        # Several codes typed are several marks: validate makes them −8 (無効), as written.
        codes = typed_codes(typed, all(0 <= o.code <= 9 for o in var.options))
        return INVALID if codes is None else codes

    def random_answer(self, var: Variable, rng: random.Random) -> Any:
        return rng.choice([o.code for o in var.options])

    def paper(self, item: Item, pen: PaperPen) -> None:
        # A drop-down is a single choice on paper: its options in numbered boxes.
        pen.instruction("1つに○")
        pen.options(self.variables(item)[0])


class Select(Single):
    name = "select"
    web_template = "items/select.html"


class Grid(Single):
    name = "grid"
    web_template = "items/grid.html"

    def variables(self, item: Item) -> tuple[Variable, ...]:
        options = tuple(item.options or ())
        return tuple(Variable(r.id, item, r.text, options) for r in item.rows or ())

    def codebook(self, var: Variable) -> dict[str, Any]:
        item = var.item
        # A row's question is the grid's question and the row together, in each language.
        question = Text(
            ja=f"{item.text.ja} — {var.text.ja}",
            en=f"{item.text.en} — {var.text.en}" if item.text.en and var.text.en else None,
        )
        return codebook_entry(var, question)

    def paper(self, item: Item, pen: PaperPen) -> None:
        pen.instruction("それぞれ1つに○")
        pen.grid(self.variables(item))
