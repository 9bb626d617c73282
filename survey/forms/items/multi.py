"""``multi``: any number of options (at most ``max_picks``); an ``exclusive`` option such as
「特にない」 stands alone."""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any

from survey.forms.items.base import (
    MISSING_CODES,
    OneVariable,
    Variable,
    longest,
    missing_code,
    typed_codes,
    whole_number,
)
from survey.forms.schema import INVALID, REFUSED, Item, Text

if TYPE_CHECKING:
    from survey.forms.paper.pen import PaperPen

# A text that already ends with the instruction (forms frozen before the item type said it):
# 「…ですか。（あてはまるものすべて）」, 「…（3つまで）」.
CARRIES_INSTRUCTION = re.compile(r"（[^（）]*(あてはまるもの|つまで)[^（）]*）\s*$")


def says_how_many(text: Text) -> bool:
    return CARRIES_INSTRUCTION.search(text.ja) is not None


class Multi(OneVariable):
    name = "multi"
    choice = True
    web_template = "items/choice.html"

    def longest_answer(self, var: Variable) -> Any:
        codes = sorted((o.code for o in var.options), key=lambda c: -len(str(c)))
        # Every pick the item allows, the longest codes first: an exclusive option cannot be
        # combined, but counting it keeps the bound an upper bound whatever is exclusive.
        return longest([codes[: var.item.max_picks or len(codes)], *MISSING_CODES])

    def validate(self, var: Variable, raw: Any) -> Any:
        """The picks in the options' order; −8 for anything a respondent cannot have meant."""
        missing = missing_code(var, raw)
        if missing is not None:
            return missing
        if not isinstance(raw, list):
            return INVALID  # a pick is sent as a list, even a single one
        picks: list[int] = []
        for value in raw:
            pick = whole_number(value)
            if pick is None:
                return INVALID
            picks.append(pick)
        if picks == [REFUSED]:  # 「答えたくない」 ticked among the options (paper) is a refusal
            return REFUSED if var.item.sensitive else INVALID
        order = {o.code: i for i, o in enumerate(var.options)}
        exclusive = {o.code for o in var.options if o.exclusive}
        if any(p not in order for p in picks) or len(set(picks)) != len(picks):
            return INVALID  # a code that is not an option (−7 among others too), or one twice
        if len(picks) > 1 and exclusive & set(picks):
            return INVALID  # 「特にない」 together with something
        if var.item.max_picks is not None and len(picks) > var.item.max_picks:
            return INVALID
        return sorted(picks, key=order.__getitem__)

    def keyed(self, var: Variable, typed: str) -> Any:
        codes = typed_codes(typed, all(0 <= o.code <= 9 for o in var.options))
        return INVALID if codes is None else codes

    def instruction(self, item: Item, plain: bool) -> Text | None:
        if says_how_many(item.text):
            return None
        if item.max_picks is not None:
            return Text(ja=f"（{item.max_picks}つまで）", en=f"(up to {item.max_picks})")
        return Text(ja="（あてはまるものすべて）", en="(all that apply)")

    def paper(self, item: Item, pen: PaperPen) -> None:
        if says_how_many(item.text):  # a frozen text that says it already: said once
            pen.instruction(None)
        elif item.max_picks is not None:
            pen.instruction(f"{item.max_picks}つまで○")
        else:
            pen.instruction("あてはまるものすべてに○")
        pen.options(self.variables(item)[0])

    def random_answer(self, var: Variable, rng: random.Random) -> Any:
        plain = [o.code for o in var.options if not o.exclusive]
        chosen = set(rng.sample(plain, min(len(plain), rng.randint(1, var.item.max_picks or 3))))
        return [c for c in plain if c in chosen]
