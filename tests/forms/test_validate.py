"""The answer validator over a whole form: skip logic, blanks, each type's rules, unknown keys."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.forms.loader import Form
from survey.forms.logic import derive
from survey.forms.validate import unknown_variables, validate
from survey.simulate import random_answers
from tests.forms.samples import ALL_FORMS, EVERY_TYPE, REAL_FORMS
from tests.forms.test_items import raw_answer

GENERAL = next(f for f in REAL_FORMS if f.id == "general")
K6 = [f"k6_{i}" for i in range(1, 7)]


def test_every_variable_in_the_forms_order_blank_is_no_answer() -> None:
    out = validate(EVERY_TYPE, {})
    assert list(out) == [v.id for v in EVERY_TYPE.variables()]
    # picks and picks_more hang on gate, which is not answered: not applicable.
    assert out == {v: -1 if v in ("picks", "picks_more") else -9 for v in out}


def test_skipped_items_are_not_applicable_and_their_answers_discarded() -> None:
    out = validate(GENERAL, {"ideation_ever": 2, "ideation_recent": 1, "ideation_coping": [1]})
    assert out["ideation_recent"] == -1 and out["ideation_coping"] == -1
    assert out["sex"] == -9 and out["opinion"] == -9 and out["k6_1"] == -9
    shown = validate(GENERAL, {"ideation_ever": 1, "ideation_coping": [1, 4]})
    assert shown["ideation_recent"] == -9 and shown["ideation_coping"] == [1, 4]


def test_each_types_rules_apply() -> None:
    raw = {
        "gate": 1,
        "picks": [1, 9],  # exclusive with another
        "every_pick": [2, 1],
        "grid_a": [0, 1],  # two marks
        "grid_b": -7,
        "place": 7,  # not an option
        "age": "４２",
        "count": 21,  # above max
        "word": "x" * 21,  # over max_length
        "essay": "  ",
    }
    assert validate(EVERY_TYPE, raw) == {
        "gate": 1,
        "picks": -8,
        "picks_more": -1,  # an invalid answer opens no follow-up
        "every_pick": [1, 2],
        "grid_a": -8,
        "grid_b": -7,
        "place": -8,
        "age": 42,
        "count": -8,
        "word": -8,
        "essay": -9,
    }


def test_the_skip_logic_reads_validated_answers() -> None:
    # Three picks of at most two: the answer is invalid, so its follow-up was not asked,
    # although one of the picks is the code the follow-up hangs on.
    out = validate(EVERY_TYPE, {"gate": 1, "picks": [1, 2, 3], "picks_more": 1})
    assert (out["picks"], out["picks_more"]) == (-8, -1)
    out = validate(EVERY_TYPE, {"gate": 1, "picks": [1, 2], "picks_more": 1})
    assert (out["picks"], out["picks_more"]) == ([1, 2], 1)
    out = validate(EVERY_TYPE, {"gate": [1, 2], "picks": [1]})  # two marks on the gate
    assert (out["gate"], out["picks"]) == (-8, -1)


def test_unknown_keys_are_left_out_and_named() -> None:
    raw = {"gate": 2, "gat": 1, "k6_total": 24, "grid": 1, "__proto__": [1]}
    out = validate(EVERY_TYPE, raw)
    assert set(out) == {v.id for v in EVERY_TYPE.variables()}
    assert unknown_variables(EVERY_TYPE, raw) == ["__proto__", "gat", "grid", "k6_total"]
    assert unknown_variables(EVERY_TYPE, out) == []


def test_a_derived_variable_is_computed_never_taken_from_the_answers() -> None:
    answers: dict[str, Any] = {k: 0 for k in K6} | {"k6_total": 24, "k6_band": 4}
    out = derive(GENERAL, answers)
    assert (out["k6_total"], out["k6_band"]) == (0, 1)


@pytest.mark.parametrize(
    ("answers", "total", "ever_yes"),
    [
        ({k: 4 for k in K6} | {"k6_6": 7}, -9, -9),  # 7 is not a K6 answer (0-4): no total
        ({k: 4 for k in K6} | {"k6_6": [3, 4]}, -9, -9),  # two marks on a row
        ({k: 4 for k in K6} | {"k6_6": True}, -9, -9),  # true is not the score 1
        ({k: 1 for k in K6} | {"ideation_ever": [1, 2]}, 6, -9),  # two marks: not "yes"
        ({k: 1 for k in K6} | {"ideation_ever": 1}, 6, 1),
    ],
)
def test_derived_variables_never_count_an_invalid_answer(
    answers: dict[str, Any], total: int, ever_yes: int
) -> None:
    out = derive(GENERAL, answers)
    assert (out["k6_total"], out["ideation_ever_yes"]) == (total, ever_yes)


@st.composite
def form_and_raw(draw: st.DrawFn) -> tuple[Form, dict[str, Any]]:
    form = draw(st.sampled_from(ALL_FORMS))
    raw = {}
    for var in form.variables():
        if draw(st.booleans()):
            raw[var.id] = draw(raw_answer(var))
    return form, raw


@settings(max_examples=200, deadline=None)
@given(form_and_raw())
def test_validated_answers_read_back_as_themselves(case: tuple[Form, dict[str, Any]]) -> None:
    form, raw = case
    out = validate(form, raw)
    assert validate(form, out) == out
    assert derive(form, out) == derive(form, raw)


@pytest.mark.parametrize("form", REAL_FORMS, ids=lambda f: f.id)
def test_the_demos_answers_are_valid(form: Form) -> None:
    rng = random.Random(7)
    for _ in range(200):
        answers = random_answers(form, rng)
        out = validate(form, answers)
        assert {k: out[k] for k in answers} == answers  # nothing the demo sends is −8 or −1
        assert unknown_variables(form, answers) == []
