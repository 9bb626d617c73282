"""Skip logic and derived variables, table-driven."""

from __future__ import annotations

import pytest

from survey.forms.loader import current_forms, load_forms
from survey.forms.logic import derive

FORM = current_forms(load_forms())["general"]
K6 = [f"k6_{i}" for i in range(1, 7)]


def k6(*scores: int) -> dict[str, int]:
    return dict(zip(K6, scores, strict=True))


@pytest.mark.parametrize(
    ("scores", "total", "band", "ten", "thirteen"),
    [
        ((0, 0, 0, 0, 0, 0), 0, 1, 0, 0),
        ((1, 1, 1, 1, 0, 0), 4, 1, 0, 0),
        ((1, 1, 1, 1, 1, 0), 5, 2, 0, 0),
        ((2, 2, 2, 2, 1, 0), 9, 2, 0, 0),
        ((2, 2, 2, 2, 2, 0), 10, 3, 1, 0),
        ((3, 3, 3, 3, 1, 0), 13, 3, 1, 1),
        ((3, 3, 3, 3, 2, 0), 14, 3, 1, 1),
        ((3, 3, 3, 3, 3, 0), 15, 4, 1, 1),
        ((4, 4, 4, 4, 4, 4), 24, 4, 1, 1),
        ((4, 4, 4, 4, 4, -9), -9, 9, -9, -9),  # one item unanswered: no total, band 不詳
        ((4, 4, 4, 4, 4, -7), -9, 9, -9, -9),  # one item refused
    ],
)
def test_k6(scores: tuple[int, ...], total: int, band: int, ten: int, thirteen: int) -> None:
    out = derive(FORM, k6(*scores))
    assert (out["k6_total"], out["k6_band"], out["k6_10plus"], out["k6_13plus"]) == (
        total,
        band,
        ten,
        thirteen,
    )


def test_k6_with_a_row_left_out_entirely() -> None:
    answers = k6(1, 1, 1, 1, 1, 1)
    del answers["k6_3"]
    assert derive(FORM, answers)["k6_band"] == 9


@pytest.mark.parametrize(
    ("ever", "recent", "ever_yes", "past_year"),
    [
        (1, 1, 1, 1),
        (1, 2, 1, 0),
        (2, None, 0, 0),  # skipped after "never": counted as no in past-year prevalence
        (2, 1, 0, 0),  # an answer the logic skips is discarded
        (1, -7, 1, -9),  # refused the follow-up: unknown
        (1, None, 1, -9),
        (-7, None, -9, -9),  # refused the question
        (None, None, -9, -9),
    ],
)
def test_ideation(ever: int | None, recent: int | None, ever_yes: int, past_year: int) -> None:
    answers = {
        k: v for k, v in {"ideation_ever": ever, "ideation_recent": recent}.items() if v is not None
    }
    out = derive(FORM, answers)
    assert (out["ideation_ever_yes"], out["ideation_past_year"]) == (ever_yes, past_year)


def test_past_year_prevalence_uses_every_respondent() -> None:
    respondents = (
        [{"ideation_ever": 2}] * 6
        + [{"ideation_ever": 1, "ideation_recent": 1}] * 2
        + [{"ideation_ever": 1, "ideation_recent": 2}] * 2
    )
    values = [derive(FORM, r)["ideation_past_year"] for r in respondents]
    assert sum(values) / len(values) == 0.2  # 2 of 10, not 2 of 4


def test_conditions_on_multiple_choice_and_combinations() -> None:
    from survey.forms.logic import holds
    from survey.forms.schema import Condition

    cond = Condition.model_validate(
        {
            "any": [
                {"item": "consult", "in": [10]},
                {"all": [{"item": "sex", "in": [2]}, {"item": "age_band", "in": [1, 2]}]},
            ]
        }
    )
    assert holds(cond, {"consult": [1, 10]})
    assert holds(cond, {"consult": [1], "sex": 2, "age_band": 2})
    assert not holds(cond, {"consult": [1], "sex": 2, "age_band": 5})
    assert not holds(cond, {"consult": -7})
