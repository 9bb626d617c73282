"""The protocol every item type implements, and what the types share (see the package docstring)."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from survey.forms.schema import (
    ILLEGIBLE,
    INVALID,
    MISSING,
    NO_ANSWER,
    REFUSED,
    Condition,
    Item,
    Option,
    Text,
)

if TYPE_CHECKING:  # the paper renderer imports the item types, not the other way round
    from survey.forms.paper.pen import PaperPen

# The characters JavaScript's String.prototype.trim() removes (WhiteSpace and LineTerminator:
# every Zs space, tab, VT, FF, BOM, LF, CR, LS, PS). Python's str.strip() knows another set,
# and the browser and the office must agree on what counts as blank.
JS_WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)


@dataclass(frozen=True, slots=True)
class Variable:
    """One column of the data: an item, or one row of a grid."""

    id: str
    item: Item
    text: Text  # the question (for a grid row: the row's text)
    options: tuple[Option, ...]

    @property
    def type(self) -> str:
        return "single" if self.item.type == "grid" else self.item.type


class ItemKind(Protocol):
    """What one item type knows; one implementation per type, registered by type name."""

    name: str  # the ``type`` of the definition's items
    choice: bool  # its variables hold option codes, which show_if and derived cases may test
    web_template: str  # the collector's Jinja template that renders one item of this type

    def variables(self, item: Item) -> tuple[Variable, ...]:
        """The data columns of an item (a grid has one per row)."""
        ...

    def longest_answer(self, var: Variable) -> Any:
        """The stored value with the longest compact JSON: what ``padded_size`` is made of."""
        ...

    def validate(self, var: Variable, raw: Any) -> Any:
        """A raw answer (as a payload or keying gives it) as stored: a value or a missing code.

        Never −1: whether the item was shown is the form's question (survey.forms.validate).
        """
        ...

    def codebook(self, var: Variable) -> dict[str, Any]:
        """The variable's codebook entry."""
        ...

    def random_answer(self, var: Variable, rng: random.Random) -> Any:
        """A plausible answer for the demo's simulated fieldwork; None leaves it blank."""
        ...

    def paper(self, item: Item, pen: PaperPen) -> None:
        """The item on the printed questionnaire: its instruction (「1つに○」) and how it is
        answered there, with the pen's primitives (numbered options, a grid, digit boxes, a
        writing box); the pen adds the number, the banner and the skips the form decides."""
        ...

    def instruction(self, item: Item, plain: bool) -> Text | None:
        """How to answer, shown with the question (「（3つまで）」), or None.

        None where the item's own (frozen) text or note already says it, so it is said once;
        ``plain`` asks for the students' wording.
        """
        ...

    def keyed(self, var: Variable, typed: str) -> Any:
        """What an operator typed from a paper sheet, as a raw answer for ``validate``.

        The paper keys (:data:`PAPER_KEYS`) and nothing typed are handled before this is
        called (:func:`keyed_answer`); ``typed`` is NFKC-normalised and trimmed.
        """
        ...


# Keying paper: one key each for the paper codes, on the numeric keypad beside the digits, so
# an operator never leaves it. Nothing typed is 無回答 (−9; −1 where the skip logic hides it).
PAPER_KEYS: dict[str, int] = {"/": ILLEGIBLE, "*": INVALID, "-": REFUSED}
PAPER_KEY_LABELS: dict[str, str] = {
    "/": "判読不能 (−6)",
    "*": "無効・複数に○ (−8)",
    "-": "答えたくない (−7)",
    "": "空欄＝無回答 (−9)",
}
TYPED_MISSING = re.compile(r"-[1-9]")


def keyed_answer(kind: ItemKind, var: Variable, typed: str | None) -> Any:
    """A keyed field as a raw answer: the paper keys, an explicit −6/−8/−9, else the type's."""
    text = unicodedata.normalize("NFKC", typed or "").strip(JS_WHITESPACE)
    if text == "":
        return None
    if text in PAPER_KEYS:
        return PAPER_KEYS[text]
    if TYPED_MISSING.fullmatch(text):
        return int(text)  # validate keeps −6/−7/−8/−9 and makes any other code −8
    return kind.keyed(var, text)


def typed_codes(typed: str, single_digits: bool) -> list[int] | None:
    """Option codes as typed: separated by spaces or commas, or run together (「135」) where
    every code is one digit; None if anything else was typed."""
    parts = [p for p in re.split(r"[\s,、]+", typed) if p]
    if len(parts) == 1 and single_digits and len(parts[0]) > 1:
        parts = list(parts[0])
    if not parts or not all(p.isdigit() for p in parts):
        return None
    return [int(p) for p in parts]


def compact_json(value: Any) -> str:
    """A value as the browser's JSON.stringify writes it (at worst: escapes counted by bytes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def longest(candidates: list[Any]) -> Any:
    """The candidate whose compact JSON is longest in UTF-8 bytes (the first of equals)."""
    return max(candidates, key=lambda value: len(compact_json(value).encode()))


MISSING_CODES = list(MISSING)


def whole_number(raw: Any) -> int | None:
    """An integer, or a float that is one (JSON does not tell 2 from 2.0); None otherwise."""
    if isinstance(raw, bool):  # JSON true/false are not numbers, although Python says so
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    return None


def missing_code(var: Variable, raw: Any) -> int | None:
    """The missing code a raw answer stands for, or None when it is an answer to check.

    Nothing (None, "", []) is −9. The standard codes pass through as given: −9, −6 (illegible,
    as keyed from paper), −8, and −7 where the item offers 「答えたくない」; −7 on an item that
    does not, −1 (the skip logic's alone to give) and any other negative number are −8.
    """
    if raw is None or (isinstance(raw, str | list) and len(raw) == 0):
        return NO_ANSWER
    n = whole_number(raw)
    if n is None or n >= 0:
        return None
    if n == REFUSED:
        return REFUSED if var.item.sensitive else INVALID
    return n if n in (NO_ANSWER, ILLEGIBLE, INVALID) else INVALID


def text_json(t: Text | None) -> dict[str, str | None] | None:
    """A label as the codebook writes it."""
    return None if t is None else {"ja": t.ja, "en": t.en}


def condition_text(cond: Condition | None) -> str:
    """A ``show_if`` as the codebook writes it: ``item in [codes]``, AND / OR of those."""
    if cond is None:
        return ""
    if cond.all is not None:
        return " AND ".join(f"({condition_text(c)})" for c in cond.all)
    if cond.any is not None:
        return " OR ".join(f"({condition_text(c)})" for c in cond.any)
    return f"{cond.item} in {cond.in_}"


def codebook_entry(var: Variable, question: Text | None = None) -> dict[str, Any]:
    """The entry every type writes; ``question`` replaces the variable's own text."""
    item = var.item
    return {
        "id": var.id,
        "item": item.id,
        "type": var.type,
        "text": text_json(var.text if question is None else question),
        "options": [
            {"code": o.code, "label": text_json(o.label), "exclusive": o.exclusive}
            for o in var.options
        ],
        "show_if": condition_text(item.show_if) or None,
        "sensitive": item.sensitive,
        "max_picks": item.max_picks,
        "min": item.min,
        "max": item.max,
        "max_length": item.max_length,
    }


class OneVariable:
    """Shared by the types whose item is one column (the grid overrides ``variables``)."""

    def variables(self, item: Item) -> tuple[Variable, ...]:
        return (Variable(item.id, item, item.text, tuple(item.options or ())),)

    def codebook(self, var: Variable) -> dict[str, Any]:
        return codebook_entry(var)

    def instruction(self, item: Item, plain: bool) -> Text | None:
        return None  # the question and its options say how to answer

    def keyed(self, var: Variable, typed: str) -> Any:
        return typed  # integers and text: validate reads what was typed
