"""Tables of a multiple choice: every option's share, in one pass over the options, equals
the design's own estimate of that option (the engine R checks: tests/analysis/test_golden.py),
and an option nobody chose has no estimate."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from survey.analysis import tables
from survey.analysis.design import Design
from survey.analysis.study import MISSING_CODES
from survey.analysis.variables import OUTSIDE
from tests.analysis.test_disclosure import FORMS, dataset


def test_each_option_of_a_multiple_choice_is_the_designs_estimate() -> None:
    df = dataset(7, 400)
    # Option 7 taken out of every pick: nobody chose it.
    picks = df["ideation_coping"]
    kept = picks.str.split().map(lambda p: " ".join(c for c in p if c != "7") or "-9")
    df["ideation_coping"] = picks.where(picks.str.startswith("-"), kept)
    design = Design(df, strata="cohort", weights="weight", fpc="N", missing=MISSING_CODES)
    analysis = tables.build(df, design, FORMS)
    # Each option as its own 0/1 variable over those shown the item (the table's base: a
    # missing answer is in it, as its 無回答 row).
    shown = df["ideation_coping"] != "-1"
    picked = df["ideation_coping"].str.split()
    assert (df["ideation_coping"] == "-7").any()
    for code in range(1, 9):
        df[f"o{code}"] = pd.array(
            np.where(shown, picked.map(lambda p, c=code: str(c) in p).astype(int), -1),
            dtype="Int64",
        )
    # The 不詳 column: those who gave no sex, as a domain of their own (code 99).
    df["sex_or_unknown"] = df["sex"].where(df["sex"] > 0, 99)
    reference = Design(df, strata="cohort", weights="weight", fpc="N", missing=MISSING_CODES)
    checked = unknown = 0
    for by in (None, "sex"):
        t = next(
            t
            for t in analysis.tables
            if t.variable == "ideation_coping" and t.by == by and t.group == "general"
        )
        for r, row in enumerate(t.cells[:8]):  # options 1-8 (then 答えたくない, 無回答, base)
            code = r + 1
            for cell in row:  # 全体, then one column per sex (by its code), then 不詳
                assert cell is not None
                sex = dict(cell.where).get("by:general:sex")
                sex = (99,) if sex == (OUTSIDE,) else sex
                if sex is None:
                    est = reference.proportion(f"o{code}")
                    expected = est.loc[1] if 1 in est.index else None
                else:
                    est = reference.by("sex_or_unknown").proportion(f"o{code}")
                    expected = est.loc[(sex[0], 1)] if (sex[0], 1) in est.index else None
                if code == 7:
                    assert math.isnan(cell.pct) and cell.n == 0
                    continue
                assert expected is not None
                assert math.isclose(cell.pct, 100 * float(expected["estimate"]), rel_tol=1e-9)
                assert math.isclose(cell.low, 100 * float(expected["ci_low"]), rel_tol=1e-9)
                assert math.isclose(cell.high, 100 * float(expected["ci_high"]), rel_tol=1e-9)
                checked += 1
                unknown += sex == (99,)
    assert checked > 20 and unknown > 0
