"""Answers as the office stores them: every variable of the form, validated by its type, with
the skip logic applied. The same function reads web answers (decrypted payloads), keyed paper
forms and the demo's data, so every source yields the same values and missing codes.

- An item the skip logic hides (``show_if`` false on the answers validated before it) is −1
  for each of its variables; whatever was given for it is discarded: the skip wins.
- A shown item is what its type's ``validate`` makes of the raw answer
  (:mod:`survey.forms.items`): a value, −9 for nothing, −7 refused where the item is
  sensitive, −8 for what cannot be right (−6 and −8 given as such are kept).
- The skip logic reads the validated values: an invalid answer (−8) opens no follow-up.
- A key the form does not define (a misspelt or injected name, a derived variable's id) is
  never stored: :func:`validate` leaves it out and :func:`unknown_variables` names such keys,
  so the caller can report them. One stray key does not cost a respondent's other answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from survey.forms.items import kind
from survey.forms.loader import Form
from survey.forms.logic import visible
from survey.forms.schema import NOT_APPLICABLE


def validate(form: Form, raw_answers: Mapping[str, Any]) -> dict[str, Any]:
    """Every variable of the form, in the form's order, as stored."""
    out: dict[str, Any] = {}
    for item in form.items():
        item_kind, shown = kind(item), visible(item, out)
        for var in item_kind.variables(item):
            raw = raw_answers.get(var.id)
            out[var.id] = item_kind.validate(var, raw) if shown else NOT_APPLICABLE
    return out


def unknown_variables(form: Form, raw_answers: Mapping[str, Any]) -> list[str]:
    """The keys of ``raw_answers`` that are not variables of the form (sorted)."""
    known = {v.id for v in form.variables()}
    return sorted(str(k) for k in raw_answers if k not in known)
