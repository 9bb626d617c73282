"""Disclosure control over random datasets: nothing published rests on fewer than the
threshold, and no suppressed cell can be narrowed below it from the published figures
(the LP audit with scipy's linprog, independent of the highspy solver protection uses)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from survey.analysis import disclosure, tables
from survey.analysis.design import Design
from survey.analysis.study import MISSING_CODES
from survey.forms.loader import current_forms, load_forms

FORMS = {"general": current_forms(load_forms())["general"]}


def dataset(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ever = rng.choice([1, 2, 2, 2, -9, -7], n)
    recent = np.where(ever == 1, rng.choice([1, 2, -9], n), -1)
    df = pd.DataFrame(
        {
            "cohort": pd.array(["general"] * n, dtype="string"),
            "sex": pd.array(rng.choice([1, 2, 2, 1, 3, 4, -9], n), dtype="Int64"),
            "age_band": pd.array(rng.choice([2, 3, 4, 5, 6, 7, 8, -9], n), dtype="Int64"),
            "ideation_ever": pd.array(ever, dtype="Int64"),
            "ideation_recent": pd.array(recent, dtype="Int64"),
            "ideation_ever_yes": pd.array(np.select([ever == 1, ever == 2], [1, 0], -9), "Int64"),
            "ideation_past_year": pd.array(
                np.select([recent == 1, recent == 2, ever == 2], [1, 0, 0], -9), dtype="Int64"
            ),
        }
    )
    # The multiple choice shown only to ideation_ever == 1 (its base is that cell).
    picks = [
        _picks(rng) if e == 1 else str(rng.choice([-9, -7])) if e == 0 else "-1"
        for e in np.where(ever == 1, 1, -1)
    ]
    df["ideation_coping"] = pd.array(picks, dtype="string")
    df["weight"] = 300.0
    df["N"] = 300.0 * n
    return df


def _picks(rng: np.random.Generator) -> str:
    """Picks of ideation_coping: options 1-7, or 8 (exclusive) alone, or a missing code."""
    kind = rng.random()
    if kind < 0.15:
        return "8"
    if kind < 0.25:
        return str(rng.choice([-9, -7]))
    chosen = sorted(rng.choice(7, rng.integers(1, 4), replace=False) + 1)
    return " ".join(str(c) for c in chosen)


def analysed(seed: int, n: int, threshold: int) -> tables.Analysis:
    df = dataset(seed, n)
    design = Design(df, strata="cohort", weights="weight", fpc="N", missing=MISSING_CODES)
    analysis = tables.build(df, design, FORMS)
    disclosure.apply(analysis, threshold)
    return analysis


@settings(
    max_examples=5,
    deadline=None,  # bounded by max_examples: each example is ~5 s of LPs
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # shrinking costs minutes of LPs
    suppress_health_check=[HealthCheck.too_slow],
)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(25, 140), threshold=st.sampled_from([5, 10]))
def test_no_suppressed_cell_can_be_recovered(seed: int, n: int, threshold: int) -> None:
    analysis = analysed(seed, n, threshold)
    report = disclosure.audit(analysis, threshold)  # linprog, every suppressed figure
    assert report.violations == []
    assert report.lp_solves > 0 or not any(
        c.suppressed for t in analysis.tables for c in t.all_cells()
    )


def test_primary_rules() -> None:
    analysis = analysed(7, 60, 10)
    cells = [c for t in analysis.tables for c in t.all_cells()]
    assert any(c.suppressed for c in cells) and any(not c.suppressed for c in cells)
    for c in cells:
        if not c.suppressed:
            assert c.domain_n >= 10
            assert c.base or not 0 < c.n < 10
            if c.sensitive and c.domain_n < 30 and not c.base:
                assert 0 < c.n < c.domain_n


def test_audit_catches_an_unprotected_cell() -> None:
    """Publishing one complementary cell again makes its partner recoverable: the audit says so."""
    analysis = analysed(11, 80, 10)
    freq = next(t for t in analysis.tables if t.id == "general__ideation_ever")
    hidden = [c for c in freq.all_cells() if c.suppressed and not c.base]
    assert hidden, "the random data should give a small cell"
    for c in hidden:
        c.suppressed = False
    hidden[0].suppressed = True  # the others now tell its value by subtraction from the base
    assert disclosure.audit(analysis, 10).violations


def test_published_frame_marks_suppressed_cells() -> None:
    analysis = analysed(3, 50, 10)
    t = next(t for t in analysis.tables if any(c.suppressed for c in t.all_cells()))
    frame = disclosure.published_frame(t)
    assert (frame == disclosure.MARK).any().any()
