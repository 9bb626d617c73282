"""``integer``: a whole number from ``min`` to ``max`` (non-negative: negative numbers are the
missing codes), typed into a text field."""

from __future__ import annotations

import random
import re
import unicodedata
from typing import TYPE_CHECKING, Any

from survey.forms.items.base import (
    JS_WHITESPACE,
    MISSING_CODES,
    OneVariable,
    Variable,
    longest,
    missing_code,
    whole_number,
)
from survey.forms.schema import INVALID, NO_ANSWER, Item

if TYPE_CHECKING:
    from survey.forms.paper.pen import PaperPen

DIGITS = re.compile(r"[0-9]+")


def _bounds(var: Variable) -> tuple[int, int]:
    low, high = var.item.min, var.item.max
    assert low is not None and high is not None  # the schema requires both for an integer item
    return low, high


def typed_number(var: Variable, typed: str) -> int | None:
    """What was typed, as a number, or None: digits only once normalised (``typed`` is NFKC, as
    the browser normalises it, and trimmed), so full-width digits and surrounding spaces are
    fine; signs, decimals, 1e3 or 0x10 are not."""
    if not DIGITS.fullmatch(typed):
        return None
    digits = typed.lstrip("0") or "0"
    if len(digits) > len(str(_bounds(var)[1])):
        return None  # above max, and never int() of a few thousand digits
    return int(digits)


class Integer(OneVariable):
    name = "integer"
    choice = False
    web_template = "items/integer.html"

    def longest_answer(self, var: Variable) -> Any:
        return longest([*_bounds(var), *MISSING_CODES])

    def validate(self, var: Variable, raw: Any) -> Any:
        missing = missing_code(var, raw)
        if missing is not None:
            return missing
        if isinstance(raw, str):
            typed = unicodedata.normalize("NFKC", raw).strip(JS_WHITESPACE)
            if typed == "":
                return NO_ANSWER
            number = typed_number(var, typed)
        else:
            number = whole_number(raw)
        low, high = _bounds(var)
        return number if number is not None and low <= number <= high else INVALID

    def random_answer(self, var: Variable, rng: random.Random) -> Any:
        return rng.randint(*_bounds(var))

    def paper(self, item: Item, pen: PaperPen) -> None:
        var = self.variables(item)[0]
        low, high = _bounds(var)
        # One box per digit of the largest answer: the number is read digit by digit.
        pen.digits(var, len(str(high)), item.unit.ja if item.unit else None, f"{low}〜{high}")
