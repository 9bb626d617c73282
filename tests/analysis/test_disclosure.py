"""Disclosure control over random datasets: nothing published rests on fewer than the
threshold, and no suppressed cell can be narrowed below it from the published figures
(the LP audit with scipy's linprog, independent of the highspy solver protection uses)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
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
@pytest.mark.slow
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


def _one_item(counts: dict[int, int]) -> tables.Analysis:
    """The general cohort answering only ``occupation`` (no breakdown answered): its linked
    set is the frequency table and its cross-tabs, whose option columns are empty (domain 0,
    primary) and whose 不詳 columns hold everyone. No row
    is 0: a published 0 total would tell the 0 in every empty column, which is then hidden
    too (the rule protects every suppressed cell)."""
    codes = [code for code, n in counts.items() for _ in range(n)]
    n = len(codes)
    df = pd.DataFrame(
        {
            "cohort": pd.array(["general"] * n, dtype="string"),
            "occupation": pd.array(codes, dtype="Int64"),
            "weight": 300.0,
            "N": 300.0 * n,
        }
    )
    design = Design(df, strata="cohort", weights="weight", fpc="N", missing=MISSING_CODES)
    return tables.build(df, design, FORMS)


def test_a_single_small_cell_costs_one_partner() -> None:
    """One cell of 4 needs one partner of at least 6 (their sum hides it by >= 10): the
    cheapest such cell (12), nothing more. Partners of 6-9 would be primary themselves.
    Nobody gave a sex or an age band, so the cross-tabs' 不詳 columns repeat the 全体
    column: the same partner is hidden there (3 cells, one figure)."""
    analysis = _one_item({1: 40, 2: 30, 3: 4, 4: 25, 5: 20, 6: 12, 7: 15, -9: 16})
    report = disclosure.apply(analysis, 10)
    freq = next(t for t in analysis.tables if t.id == "general__occupation")
    hidden = {
        label: c.primary
        for label, row in zip(freq.rows, freq.cells, strict=True)
        for c in row
        if c is not None and c.suppressed
    }
    options = {o.code: o.label.ja for o in FORMS["general"].variables()[3].options}
    assert hidden == {options[3]: True, options[6]: False}
    complementary = {
        c.key: c.n for t in analysis.tables for c in t.all_cells() if c.suppressed and not c.primary
    }
    assert list(complementary.values()) == [12, 12, 12]
    assert len(complementary) == report.suppressed_complementary
    assert report.escalations == 0
    assert disclosure.audit(analysis, 10).violations == []


def test_two_small_cells_hide_each_other() -> None:
    """Cells of 4 and 7 in one column: each is within [0, 11] once both are hidden."""
    analysis = _one_item({1: 40, 2: 30, 3: 4, 4: 25, 5: 20, 6: 7, 7: 15, -9: 16})
    report = disclosure.apply(analysis, 10)
    assert report.suppressed_complementary == 0
    assert disclosure.audit(analysis, 10).violations == []


def test_partners_in_other_linked_tables_need_no_escalation() -> None:
    """Partners found across the linked tables (ideation, its follow-ups and its derived
    prevalences: a derived base reveals the parent's missing rows) by the protection LP:
    the whole-row/table fallback (which hid the K6 and ideation summaries on the demo, and
    fired three times on each of these datasets) never fires."""
    for seed, n in ((7, 60), (11, 80), (3, 120)):
        df = dataset(seed, n)
        design = Design(df, strata="cohort", weights="weight", fpc="N", missing=MISSING_CODES)
        analysis = tables.build(df, design, FORMS)
        report = disclosure.apply(analysis, 10)
        assert report.escalations == 0
        assert report.suppressed_complementary > 0
        assert disclosure.audit(analysis, 10, fast=True).violations == []
