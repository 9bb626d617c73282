"""The study's cohorts: names, kinds of unit and labels, shared by both sides.

Core (the collector reads cohort names too); the rules of who belongs to which frame are the
sampler's (:mod:`survey.sampling.cohorts`).
"""

from __future__ import annotations

COHORTS: tuple[str, ...] = (
    "infant_guardian",
    "elementary_guardian",
    "junior_high",
    "high_school",
    "general",
)
GUARDIAN_COHORTS = frozenset({"infant_guardian", "elementary_guardian"})
PERSON_COHORTS = frozenset({"junior_high", "high_school", "general"})
# Forms in plain language for young people: instructions and notes use their wording.
STUDENT_COHORTS = frozenset({"junior_high", "high_school"})
COHORT_LABELS = {
    "infant_guardian": "乳幼児の保護者",
    "elementary_guardian": "小学生の保護者",
    "junior_high": "中学生",
    "high_school": "高校生",
    "general": "一般市民",
}
