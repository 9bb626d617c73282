from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.sampling.cohorts import (
    FrameRules,
    add_months,
    age_band,
    age_on,
    checkup_reached,
    child_cohort,
    grade,
    in_no_frame,
    person_cohort,
    school_year,
)

D = date(2026, 6, 1)  # school year 2026


def test_school_year_turns_on_1_april() -> None:
    assert school_year(date(2026, 3, 31)) == 2025
    assert school_year(date(2026, 4, 1)) == 2026


@pytest.mark.parametrize(
    ("birth", "expected"),
    [
        # Grade 1 in school year 2026: born 2019-04-02 .. 2020-04-01.
        (date(2019, 4, 2), 1),
        (date(2020, 4, 1), 1),
        (date(2020, 4, 2), 0),
        (date(2019, 4, 1), 2),
        # Junior high 1 (g=7): born 2013-04-02 .. 2014-04-01.
        (date(2013, 4, 2), 7),
        (date(2014, 4, 1), 7),
        (date(2013, 4, 1), 8),
        # High school 3 (g=12) and the first year after (g=13).
        (date(2008, 4, 2), 12),
        (date(2008, 4, 1), 13),
    ],
)
def test_grade_edges_1_and_2_april(birth: date, expected: int) -> None:
    assert grade(birth, D) == expected


def test_reference_date_31_march_vs_1_april() -> None:
    birth = date(2019, 4, 2)  # enters elementary school in April 2026
    assert grade(birth, date(2026, 3, 31)) == 0
    assert grade(birth, date(2026, 4, 1)) == 1
    rules_march = FrameRules(as_of=date(2026, 3, 31))
    rules_april = FrameRules(as_of=date(2026, 4, 1))
    assert child_cohort(birth, rules_march) == ("infant_guardian", None)
    assert child_cohort(birth, rules_april) == ("elementary_guardian", None)


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(2000, 6, 1), date(2026, 6, 1), 26),  # reached on the birthday itself
        (date(2000, 6, 2), date(2026, 6, 1), 25),
        (date(2004, 2, 29), date(2026, 2, 28), 21),  # leap-day birthday, common year
        (date(2004, 2, 29), date(2026, 3, 1), 22),  # ... reached on 1 March
        (date(2004, 2, 29), date(2028, 2, 29), 24),  # ... and on 29 February in leap years
        (date(2004, 2, 29), date(2028, 2, 28), 23),
    ],
)
def test_age_on(birth: date, on: date, age: int) -> None:
    assert age_on(birth, on) == age


def test_leap_day_child_grade() -> None:
    # Born 29 Feb 2020: before 2 April, so enters school in April 2026 (g=1 in 2026).
    assert grade(date(2020, 2, 29), D) == 1


@pytest.mark.parametrize(
    ("birth", "min_age", "cohort"),
    [
        (date(2012, 4, 2), 18, "junior_high"),
        (date(2011, 4, 2), 18, "junior_high"),  # g=9
        (date(2011, 4, 1), 18, "high_school"),  # g=10
        (date(2008, 4, 2), 18, "high_school"),
        (date(2008, 4, 1), 18, "general"),  # g=13, aged 18
        (date(2007, 6, 2), 20, None),  # 18 on D with the 2018 rule (20+): no frame
        (date(2006, 6, 1), 20, "general"),  # 20 on D exactly
        (date(2006, 6, 2), 20, None),  # turns 20 the day after D
        (date(2026, 6, 2), 18, None),  # born after D
    ],
)
def test_person_cohorts(birth: date, min_age: int, cohort: str | None) -> None:
    assert person_cohort(birth, FrameRules(as_of=D, general_min_age=min_age)) == cohort


def test_no_frame_counts_only_past_elementary() -> None:
    rules = FrameRules(as_of=D, general_min_age=20)
    assert in_no_frame(date(2007, 6, 2), rules)  # 18 years old
    assert not in_no_frame(date(2015, 1, 1), rules)  # elementary pupil
    assert not in_no_frame(date(1980, 1, 1), rules)  # adult in the general frame
    assert not in_no_frame(date(2007, 6, 2), FrameRules(as_of=D, general_min_age=18))


def test_infant_preschool_frame() -> None:
    rules = FrameRules(as_of=D)
    assert child_cohort(date(2026, 6, 1), rules) == ("infant_guardian", None)  # born on D
    assert child_cohort(date(2026, 6, 2), rules) is None  # born after D
    assert child_cohort(date(2020, 4, 2), rules) == ("infant_guardian", None)
    assert child_cohort(date(2014, 4, 1), rules) is None  # junior high


def test_add_months_clamps_missing_days_forward() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 3, 1)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 3, 1)
    assert add_months(date(2025, 9, 15), 4) == date(2026, 1, 15)
    assert add_months(date(2025, 12, 31), 18) == date(2027, 7, 1)  # no 31 June


def test_checkup_frame_uses_fieldwork_period() -> None:
    rules = FrameRules(
        as_of=date(2026, 4, 1),
        infant_frame="checkup",
        checkup_ages=(4, 18, 36),
        fieldwork_start=date(2026, 6, 1),
        fieldwork_end=date(2026, 7, 31),
    )
    four_months = checkup_reached(date(2026, 2, 1), rules)
    assert four_months is not None and four_months.months == 4
    assert four_months.on == date(2026, 6, 1)
    assert checkup_reached(date(2026, 1, 31), rules) is None  # 4 months on 2026-05-31
    eighteen = checkup_reached(date(2024, 12, 31), rules)  # 18 months on 2026-07-01
    assert eighteen is not None and eighteen.months == 18
    assert child_cohort(date(2025, 3, 1), rules) is None  # 15 months: no check-up in period
    assert child_cohort(date(2023, 7, 31), rules) is not None  # 36 months on 2026-07-31


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 6, 1)))
def test_cohorts_are_disjoint_and_match_grades(birth: date) -> None:
    rules = FrameRules(as_of=D)
    person = person_cohort(birth, rules)
    child = child_cohort(birth, rules)
    assert person is None or child is None
    g = grade(birth, D)
    if 1 <= g <= 6:
        assert child == ("elementary_guardian", None)
    if person == "general":
        assert age_on(birth, D) >= 18


def test_age_bands() -> None:
    assert [age_band(a) for a in (12, 17, 18, 19, 20, 29, 79, 80, 101)] == [
        "12",
        "17",
        "18-19",
        "18-19",
        "20-29",
        "20-29",
        "70-79",
        "80+",
        "80+",
    ]
