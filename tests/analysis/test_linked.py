"""The attacker's linear model of a linked set (survey.analysis.linked)."""

from __future__ import annotations

from survey.analysis import disclosure
from survey.analysis.linked import build_linked
from tests.analysis.test_disclosure import analysed


def test_joint_breakdowns_are_known_to_the_attacker() -> None:
    """The general cohort's sex by age band, which other sets' cross-tabs constrain, is given
    to the attacker of every set (codes with a suppressed margin merged)."""
    analysis = analysed(7, 60, 10)
    _, set_tables = next(s for s in disclosure.linked_sets(analysis) if s[0].startswith("ideation"))
    joint = [
        f for f in build_linked(analysis, set_tables, "persons").figures if f.key[0] == "joint"
    ]
    assert joint and all(f.fixed and not f.suppressed for f in joint)
    assert sum(f.n for f in joint) == len(analysis.frame)
    columns = {c for f in joint for c, _ in f.where}
    assert columns == {"cohort", "by:general:sex", "by:general:age_band"}
