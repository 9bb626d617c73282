"""Cohort rules: who belongs to which sampling frame on the reference date D.

Japanese school entry: a child enters elementary school in the April after turning six,
and children born on 1 April belong to the earlier year (年齢計算ニ関スル法律: a birthday
is "reached" the day before). Hence entry year E = b.year + 7 if (b.month, b.day) >= (4, 2)
else b.year + 6, and grade g = Y - E + 1 for school year Y.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

DEFAULT_ALLOCATION = {
    "infant_guardian": 500,
    "elementary_guardian": 500,
    "junior_high": 500,
    "high_school": 500,
    "general": 1250,
}
DEFAULT_DRAW_ORDER = (
    "general",
    "junior_high",
    "high_school",
    "infant_guardian",
    "elementary_guardian",
)


def school_year(d: date) -> int:
    return d.year if d.month >= 4 else d.year - 1


def grade(birth: date, d: date) -> int:
    """School grade on D: 1..6 elementary, 7..9 junior high, 10..12 high school; <=0 preschool."""
    entry = birth.year + 7 if (birth.month, birth.day) >= (4, 2) else birth.year + 6
    return school_year(d) - entry + 1


def age_on(birth: date, d: date) -> int:
    """Completed years on D; a birthday counts as reached on its day (29 Feb on 1 Mar)."""
    # Tuple comparison gives the 29 February rule for free: in a common year (2, 28) < (2, 29)
    # so the birthday is not yet reached on 28 February, and (3, 1) > (2, 29) reaches it.
    return d.year - birth.year - ((d.month, d.day) < (birth.month, birth.day))


def add_months(birth: date, months: int) -> date:
    """The day a child reaches ``months`` months of age.

    When the month has no such day (born 31 January, one month later), the age is reached
    on the first day of the next month, as for 29 February birthdays.
    """
    y, m = divmod(birth.month - 1 + months, 12)
    year, month = birth.year + y, m + 1
    try:
        return date(year, month, birth.day)
    except ValueError:
        first_next = date(year + (month == 12), month % 12 + 1, 1)
        return first_next


def age_band(age: int) -> str:
    """Bands used for frame counts and calibration: single years under 18, then decades."""
    if age < 18:
        return str(age)
    if age < 20:
        return "18-19"
    if age >= 80:
        return "80+"
    low = age // 10 * 10
    return f"{low}-{low + 9}"


@dataclass(frozen=True, slots=True)
class FrameRules:
    as_of: date
    general_min_age: int = 18
    infant_frame: str = "preschool"
    checkup_ages: tuple[int, ...] = (4, 18, 36)
    fieldwork_start: date | None = None
    fieldwork_end: date | None = None


@dataclass(frozen=True, slots=True)
class Checkup:
    """Which infant health check-up a child reaches during fieldwork, and in which month."""

    months: int
    on: date

    @property
    def label(self) -> str:
        return f"{self.months}か月児健診"


def person_cohort(birth: date, rules: FrameRules) -> str | None:
    """The person frame of someone born on ``birth``, or None."""
    if birth > rules.as_of:
        return None
    g = grade(birth, rules.as_of)
    if 7 <= g <= 9:
        return "junior_high"
    if 10 <= g <= 12:
        return "high_school"
    if g >= 13 and age_on(birth, rules.as_of) >= rules.general_min_age:
        return "general"
    return None


def in_no_frame(birth: date, rules: FrameRules) -> bool:
    """Past elementary school (g >= 7) yet in no person frame, e.g. 18-19 with min age 20."""
    return (
        birth <= rules.as_of
        and grade(birth, rules.as_of) >= 7
        and person_cohort(birth, rules) is None
    )


def checkup_reached(birth: date, rules: FrameRules) -> Checkup | None:
    """The first configured check-up age reached within the fieldwork period, if any."""
    if rules.fieldwork_start is None or rules.fieldwork_end is None:
        return None
    for months in sorted(rules.checkup_ages):
        on = add_months(birth, months)
        if rules.fieldwork_start <= on <= rules.fieldwork_end:
            return Checkup(months, on)
    return None


def child_cohort(birth: date, rules: FrameRules) -> tuple[str, Checkup | None] | None:
    """The guardian frame a child makes its household eligible for, or None."""
    if birth > rules.as_of:
        return None
    g = grade(birth, rules.as_of)
    if 1 <= g <= 6:
        return "elementary_guardian", None
    if g <= 0:
        if rules.infant_frame == "checkup":
            checkup = checkup_reached(birth, rules)
            return ("infant_guardian", checkup) if checkup else None
        return "infant_guardian", None
    return None
