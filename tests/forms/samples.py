"""Forms for the tests of survey.forms: one with every item type (the real forms have no integer
or one-line text item), and the real ones."""

from __future__ import annotations

from pathlib import Path

from survey.forms.loader import Form, Variable, load_form, load_forms

EVERY_TYPE = load_form(Path(__file__).with_name("every_type.v1.yaml"), {})
REAL_FORMS = sorted(load_forms().values(), key=lambda f: (f.id, f.version))
ALL_FORMS = [EVERY_TYPE, *REAL_FORMS]


def variable(form: Form, var_id: str) -> Variable:
    return next(v for v in form.variables() if v.id == var_id)
