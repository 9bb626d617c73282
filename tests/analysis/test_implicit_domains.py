"""The implicit-domain attack (issue 14): a cross-tab's 全体 column minus its option columns
gives the cells of those who left the breakdown blank. Each cross-tab now shows them as a
不詳 column under the same suppression and audit as any other, so that subtraction must
not give a figure under the threshold either."""

from __future__ import annotations

import numpy as np

from survey.analysis import run, tables
from survey.analysis.variables import OUTSIDE
from tests.analysis import responses


def test_no_cell_of_those_who_left_a_breakdown_blank_is_derived_by_subtraction() -> None:
    # The demo's general and high-school answers: about 7 % leave their sex or grade blank.
    inputs = responses.inputs(responses.dataset({"general": 540, "high_school": 80}))
    analysis, _ = run.suppressed_tables(inputs)
    derived, crosstabs = [], 0
    for t in analysis.tables:
        if t.by is None or t.kind == "multi":
            continue  # a multiple choice's rows overlap: a row is not its base minus others
        crosstabs += 1
        options = [j for j, name in enumerate(t.columns) if name != tables.UNKNOWN_LABEL]
        for label, row in zip(t.rows, t.cells, strict=True):
            shown = [row[j] for j in options]
            if any(c is None or c.suppressed for c in shown):
                continue
            total, *columns = (c.n for c in shown if c is not None)
            rest = total - sum(columns)
            if 0 < rest < inputs.threshold:
                derived.append((t.id, label, rest))
    assert crosstabs > 50
    assert derived == []


def test_every_crosstab_adds_up_to_its_total_column() -> None:
    """The 不詳 column holds exactly those the option columns leave out: every row's counts
    sum to the 全体 column, and its cells' condition is OUTSIDE on the breakdown."""
    inputs = responses.inputs(responses.dataset({"general": 300, "junior_high": 60}))
    analysis = tables.build(inputs.df, inputs.design, inputs.forms)
    unknown = 0
    for t in analysis.tables:
        if t.by is None:
            continue
        counts = np.array([[c.n if c is not None else 0 for c in row] for row in t.cells])
        assert (counts[:, 0] == counts[:, 1:].sum(axis=1)).all(), t.id
        column = f"by:{t.group}:{t.by}"
        for row in t.cells:
            codes = [dict(c.where)[column] for c in row[1:] if c is not None]
            assert all(code[0] >= 0 for code in codes[:-1]), t.id
            if t.has_unknown:
                assert codes[-1] == (OUTSIDE,), t.id
        unknown += t.has_unknown
    assert unknown > 0
