"""Skip logic and derived variables, evaluated the same way for web, paper and exports.

Answers map variable ids to a code (int), a list of codes (multiple choice), an integer, a
string (free text), or a negative missing code (see :data:`survey.forms.schema.MISSING`).
The skip logic is applied with each type's validation by :func:`survey.forms.validate.validate`.
"""

from __future__ import annotations

from typing import Any

from survey.forms.loader import Form
from survey.forms.schema import NO_ANSWER, Condition, Derived, Item

Answers = dict[str, Any]


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool) and value < 0)


def holds(cond: Condition, answers: Answers) -> bool:
    if cond.all is not None:
        return all(holds(c, answers) for c in cond.all)
    if cond.any is not None:
        return any(holds(c, answers) for c in cond.any)
    value = answers.get(cond.item or "")
    codes = set(cond.in_ or ())
    if isinstance(value, list):
        return bool(codes & set(value))
    return not is_missing(value) and value in codes


def visible(item: Item, answers: Answers) -> bool:
    return item.show_if is None or holds(item.show_if, answers)


def _value(d: Derived, values: Answers) -> int:
    missing = d.missing_code if d.missing_code is not None else NO_ANSWER
    if d.kind == "sum":
        parts = [values.get(i) for i in d.items or ()]
        if any(is_missing(p) or not isinstance(p, int) for p in parts):
            return missing  # a K6 with one item missing or refused has no total
        return sum(int(p) for p in parts if p is not None)
    if d.kind == "cases":
        for case in d.cases or ():
            if holds(case.when, values):
                return case.value
        return d.otherwise if d.otherwise is not None else missing
    source = values.get(d.source or "")
    if is_missing(source) or not isinstance(source, int):
        return missing
    if d.kind == "threshold":
        assert d.min is not None
        return int(source >= d.min)
    for band in d.bands or ():
        if source >= band.min and (band.max is None or source <= band.max):
            return band.code
    return missing


def derive(form: Form, answers: Answers) -> dict[str, int]:
    """The form's derived variables, in declaration order (later ones may use earlier ones),
    from the answers as :func:`~survey.forms.validate.validate` stores them."""
    from survey.forms.validate import validate  # (validate.py builds on visible() above)

    values: Answers = validate(form, answers)
    out: dict[str, int] = {}
    for d in form.derived:
        out[d.id] = values[d.id] = _value(d, values)
    return out
