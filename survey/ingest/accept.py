"""An answer becoming a response, whatever its channel: validated by the item types, the skip
logic applied, derived variables computed, free text apart, every change in the edit log.

Shared by decryption (web) and the paper side (keyed or vendor sheets): one rule for both, so
a web and a paper answer with the same marks are the same row of the dataset.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from survey.forms.codebook import TEXT_TYPES
from survey.forms.loader import Form
from survey.forms.logic import derive
from survey.forms.schema import INVALID, NOT_APPLICABLE
from survey.forms.validate import validate
from survey.models import EditLog, FreeText, Response, Study


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class Outcome:
    response: Response | None = None
    texts: list[FreeText] = field(default_factory=list)
    edits: list[EditLog] = field(default_factory=list)
    reason: str | None = None
    detail: str = ""


def accept_answers(
    study: Study, cohort: str, channel: str, day: date, form: Form, raw: dict[str, Any]
) -> Outcome:
    """The response (new random id, ISO week of ``day`` only), its free text and edits."""
    values = validate(form, raw)
    derived = derive(form, values)
    response_id = uuid.uuid4().hex
    answers: dict[str, Any] = {}
    out = Outcome()
    for var in form.variables():
        value = values[var.id]
        if var.type in TEXT_TYPES and isinstance(value, str):
            out.texts.append(FreeText(response_id=response_id, variable=var.id, text=value))
            value = 1  # the dataset says only that it was answered
        elif value == INVALID and raw.get(var.id) not in (None, INVALID):
            out.edits.append(
                EditLog(
                    response_id=response_id,
                    variable=var.id,
                    value=INVALID,
                    reason=f"{var.type}: the answer given cannot be right for this item",
                )
            )
        elif value == NOT_APPLICABLE and raw.get(var.id) is not None:
            out.edits.append(
                EditLog(
                    response_id=response_id,
                    variable=var.id,
                    value=NOT_APPLICABLE,
                    reason="answered, but the skip logic hides the item: the skip wins",
                )
            )
        answers[var.id] = value
    assert study.id is not None
    out.response = Response(
        id=response_id,
        study_id=study.id,
        cohort=cohort,
        channel=channel,
        form_id=form.id,
        version=form.version,
        week=iso_week(day),
        answers=answers,
        derived=derived,
    )
    return out
