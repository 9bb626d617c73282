"""The attacker's unknowns: every combination of answers the form allows, and only those."""

from __future__ import annotations

from survey.analysis.atoms import enumerate_atoms
from survey.analysis.variables import OUTSIDE
from tests.analysis.test_disclosure import analysed


def test_skip_logic_and_derived_values_follow_the_form() -> None:
    analysis = analysed(5, 40, 10)
    specs = {s.id: s for s in analysis.specs["general"]}
    names = ["ideation_ever", "ideation_recent", "ideation_past_year"]
    atoms = enumerate_atoms(analysis, "general", [specs[n] for n in names])
    combos = {tuple(int(v) for v in row) for row in atoms[names].to_numpy()}
    yes, no, refused, missing = range(4)  # the rows of ideation_ever
    # ない hides the follow-up, and the past-year prevalence is なし (row 1).
    assert {(r, p) for e, r, p in combos if e == no} == {(OUTSIDE, 1)}
    # ある shows it: within the past year あり (row 0), before なし, refused or blank: none.
    assert {(r, p) for e, r, p in combos if e == yes} == {
        (0, 0),
        (1, 1),
        (2, OUTSIDE),
        (3, OUTSIDE),
    }
    # No valid answer to the parent: neither the follow-up nor the prevalence.
    assert {(r, p) for e, r, p in combos if e in (refused, missing)} == {(OUTSIDE, OUTSIDE)}
