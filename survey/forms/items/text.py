"""``text`` (one line) and ``longtext`` (a text area): free text of at most ``max_length``
characters, counted as the browser's ``maxlength`` counts them (UTF-16 code units)."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from survey.forms.items.base import JS_WHITESPACE, OneVariable, Variable, missing_code
from survey.forms.schema import INVALID, NO_ANSWER, Item

if TYPE_CHECKING:
    from survey.forms.paper.pen import PaperPen
from survey.forms.schema import Text as Label

# What the demo's simulated respondents write.
OPINIONS = [
    "相談窓口があることを、もっと知らせてほしいです。",
    "学校でのSOSの出し方教育を続けてください。",
    "身近な人の変化に気づける地域になってほしい。",
]


def utf16_length(text: str) -> int:
    # "surrogatepass": JSON may carry a lone surrogate, which is one unit like any other.
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _max_length(var: Variable) -> int:
    assert var.item.max_length is not None  # the schema requires it for text items
    return var.item.max_length


class Text(OneVariable):
    name = "text"
    choice = False
    web_template = "items/text.html"

    def longest_answer(self, var: Variable) -> Any:
        # A control character is the costliest unit: 6 bytes as "\u0001" in JSON (UTF-8 needs
        # at most 3 bytes per UTF-16 unit, a lone surrogate is also written "\udXXX").
        return "\x01" * _max_length(var)

    def validate(self, var: Variable, raw: Any) -> Any:
        missing = missing_code(var, raw)
        if missing is not None:
            return missing
        if not isinstance(raw, str):
            return INVALID
        if raw.strip(JS_WHITESPACE) == "":
            return NO_ANSWER  # spaces only: nothing was written
        return raw if utf16_length(raw) <= _max_length(var) else INVALID

    def random_answer(self, var: Variable, rng: random.Random) -> Any:
        if rng.random() > 0.2:
            return None  # most leave the free text empty
        return rng.choice(OPINIONS)[: _max_length(var)]

    def paper(self, item: Item, pen: PaperPen) -> None:
        var = self.variables(item)[0]
        note = self.instruction(item, pen.plain)
        pen.writing(var, _max_length(var), note.ja if note else None)


# Free text must not identify its writer: said once, in the form's own wording.
PRIVACY = Label(
    ja="お名前など、個人が特定される内容は書かないでください。",
    en="Please do not write your name or anything that identifies you.",
)
PRIVACY_PLAIN = Label(
    ja="名前など、だれが書いたかわかることは書かないでください。",
    en="Please do not write your name or anything that shows who wrote it.",
)


def carries_privacy_note(note: Label | None) -> bool:
    """Whether an item's own note (forms frozen before the type said it) already asks not to
    write anything identifying."""
    return note is not None and "書かないで" in note.ja


class LongText(Text):
    name = "longtext"
    web_template = "items/longtext.html"

    def instruction(self, item: Item, plain: bool) -> Label | None:
        n = item.max_length
        if plain:
            length = Label(ja=f"{n}文字まで書けます。", en=f"Up to {n} characters.")
        else:
            length = Label(ja=f"{n}文字まで。", en=f"Up to {n} characters.")
        if carries_privacy_note(item.note):
            return length
        note = PRIVACY_PLAIN if plain else PRIVACY
        return Label(ja=length.ja + note.ja, en=f"{length.en} {note.en}")
