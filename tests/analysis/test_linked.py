"""The attacker's linear model of a linked set (survey.analysis.linked)."""

from __future__ import annotations

from survey.analysis import disclosure, tables
from survey.analysis.linked import build_linked, hidden_margins
from survey.analysis.variables import OUTSIDE, Spec
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


def _sex_table(hidden: set[str]) -> tuple[tables.Table, Spec]:
    analysis = analysed(7, 60, 10)
    t = next(t for t in analysis.tables if t.id == "general__sex")
    spec = next(s for s in analysis.specs["general"] if s.id == "sex")
    for label, row in zip(t.rows, t.cells, strict=True):
        if row[0] is not None:
            row[0].suppressed = label in hidden
    return t, spec


def test_those_without_a_sex_are_hidden_only_when_no_subtraction_gives_them() -> None:
    """The cross-tabs' 不詳 column counts 無回答 (the missing codes together). Its size is
    known from the cohort total minus the options when every option is published, whatever
    else is hidden; hidden with 無回答 and an option both suppressed."""
    assert hidden_margins(*_sex_table({"無回答"})) == set()
    assert hidden_margins(*_sex_table({"その他", "回答しない"})) == {3, 4}
    assert hidden_margins(*_sex_table({"その他", "無回答"})) == {3, OUTSIDE}


def test_a_hidden_unknown_margin_hides_the_unknown_columns() -> None:
    """With 無回答 and an option of sex hidden, no cross-tab by sex shows its 不詳 column
    (its base would tell the hidden margin); the option columns stay as they were."""
    analysis = analysed(7, 60, 10)
    for t in analysis.tables:
        for c in t.all_cells():
            c.suppressed = False
    t = next(t for t in analysis.tables if t.id == "general__sex")
    for label, row in zip(t.rows, t.cells, strict=True):
        if label in ("その他", "無回答"):
            row[0].suppressed = True  # type: ignore[union-attr]
    disclosure._domains_follow_margins(analysis)
    crosstabs = [t for t in analysis.tables if t.by == "sex"]
    assert crosstabs
    for t in crosstabs:
        assert t.has_unknown
        by = {t.columns[j]: [row[j] for row in t.cells] for j in range(len(t.columns))}
        assert all(c is not None and c.suppressed for c in by[tables.UNKNOWN_LABEL])
        assert all(c is not None and c.suppressed for c in by["その他"])
        assert not any(c is not None and c.suppressed for c in by["男性"])
