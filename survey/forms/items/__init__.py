"""Item types: everything the platform knows about one type of question lives in one place.

Each type (``single``, ``multi``, ``grid``, ``integer``, ``text``, ``longtext``, ``select``: the
``type`` of an item in a definition, see :mod:`survey.forms.schema`) is a small class in a
module of this package (one per family that truly shares code: :mod:`.choice` holds single,
select and grid, :mod:`.multi`, :mod:`.integer`, :mod:`.text` holds text and longtext),
implementing :class:`~survey.forms.items.base.ItemKind`:

``name``, ``choice``
    the type's name, and whether its variables hold option codes (show_if and derived
    ``cases`` may test them).
``variables(item)``
    its data columns (:class:`Variable`): one, or one per row for a grid.
``longest_answer(var)``
    the stored value with the longest compact JSON; ``padded_size`` is the payload with every
    variable at that value (:mod:`survey.forms.payload`).
``validate(var, raw)``
    a raw answer, as a sealed payload or (later) a keyed paper form gives it, into the value
    stored or a standard missing code (:data:`survey.forms.schema.MISSING`): −9 for nothing
    (None, "", [], spaces only), −7 for 「答えたくない」 where the item is ``sensitive`` (−8
    where it is not), −8 for what cannot be right (several marks on a single choice, a code
    that is not an option, an exclusive option with others, more picks than ``max_picks``, an
    integer outside ``min..max`` or not an integer, text over ``max_length`` or not a string,
    a value of the wrong JSON type); −6, −8 and −9 given as such are kept. −1 is never a
    type's to give: :func:`survey.forms.validate.validate` applies the skip logic.
``codebook(var)``
    the variable's codebook entry (:mod:`survey.forms.codebook` writes JSON and xlsx from it).
``web_template``
    the collector's Jinja template for one item of the type
    (``survey/web/collector/templates/items/``), included by ``form.html`` with ``item`` (an
    :class:`survey.forms.web.ItemView`) and ``number`` (its question number).
``random_answer(var, rng)``
    the demo's simulated answer (:mod:`survey.simulate`).
``paper(item, pen)``
    the item on the printed questionnaire: its instruction (「1つに○」) and its answer drawn
    with the pen's primitives (:class:`survey.forms.paper.pen.PaperPen`: numbered option
    boxes, a grid table, digit boxes, a writing box sized to ``max_length``).

The browser checks the same rules in ``survey/web/collector/js/validate.js``; a test runs both
on the same generated inputs (tests/web/test_browser_logic.py).

Adding a capability (the paper questionnaire, a keying spec for double entry) is one more
member of :class:`ItemKind` and one implementation in each type's module, next to the others;
mypy then lists every type still without it. Adding a type is one module (or class) here, one
line in :data:`KINDS`, its template, and its name in ``schema.ItemType``.
"""

from __future__ import annotations

from survey.forms.items.base import ItemKind, Variable
from survey.forms.items.choice import Grid, Select, Single
from survey.forms.items.integer import Integer
from survey.forms.items.multi import Multi
from survey.forms.items.text import LongText, Text
from survey.forms.schema import Item

KINDS: dict[str, ItemKind] = {
    k.name: k for k in (Single(), Multi(), Grid(), Integer(), Text(), LongText(), Select())
}


def kind(item: Item) -> ItemKind:
    """The type of an item (every schema type is registered; a test checks it)."""
    return KINDS[item.type]


__all__ = ["KINDS", "ItemKind", "Variable", "kind"]
