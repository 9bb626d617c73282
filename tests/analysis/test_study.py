"""The study's designs: weights, 「回答なし」, raking of the general cohort, child-level
weights by k, pooling rules (pure: no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from survey.analysis import Design
from survey.analysis.study import (
    K_MISSING,
    child_design,
    poolable_items,
    pooled,
    rake_general,
    study_design,
)
from survey.analysis.weights import NO_RESPONSES, CohortCounts, attach_weights, weights_table
from survey.errors import DataError, UsageError
from tests.analysis import synthetic
from tests.analysis.test_golden import frame_cells


def test_weight_formula_and_no_responses() -> None:
    table = weights_table(
        [
            CohortCounts("general", 60000, 1250, 50, 400),
            CohortCounts("junior_high", 2000, 500, 0, 0),
        ]
    )
    assert table.loc["general", "weight"] == pytest.approx(60000 * 1200 / (1250 * 400))
    assert table.loc["general", "fpc"] == 60000
    assert table.loc["junior_high", "status"] == NO_RESPONSES
    assert pd.isna(table.loc["junior_high", "weight"])  # never a division by zero


def test_weights_add_up_to_the_eligible_population() -> None:
    data = attach_weights(synthetic.responses(), synthetic.counts())
    for c in synthetic.counts():
        total = data.loc[data["cohort"] == c.cohort, "weight"].sum()
        assert total == pytest.approx(c.frame * (c.sampled - c.undeliverable) / c.sampled)


def test_rows_must_be_the_valid_responses() -> None:
    data = synthetic.responses().iloc[5:]
    with pytest.raises(DataError, match="valid responses"):
        attach_weights(data, synthetic.counts())


def test_raking_the_general_cohort_leaves_its_total_and_the_other_cohorts() -> None:
    design = study_design(synthetic.responses(), synthetic.counts())
    raked = rake_general(design, frame_cells())
    before, after = design.weights, raked.weights
    general = design.data["cohort"] == "general"
    assert after[~general].equals(before[~general])
    assert after[general].sum() == pytest.approx(before[general].sum())
    unmatched = general & (design.data["rake_sex"].isna() | design.data["rake_age"].isna())
    assert unmatched.any() and after[unmatched].equals(before[unmatched])
    matched = general & ~unmatched
    share = after[matched & (design.data["rake_sex"] == "男")].sum() / after[matched].sum()
    assert share == pytest.approx(30200 / 61000)
    # Other cohorts' estimates and SEs are untouched.
    for table in (design.by("cohort").mean("k6"), raked.by("cohort").mean("k6")):
        assert table.loc["junior_high", "se"] == pytest.approx(
            design.by("cohort").mean("k6").loc["junior_high", "se"]
        )


def test_an_empty_age_band_is_merged_with_its_neighbour() -> None:
    data = synthetic.responses()
    data.loc[(data["cohort"] == "general") & (data["age_band"] == 8), "age_band"] = 7
    raked = rake_general(study_design(data, synthetic.counts()), frame_cells())
    bands = raked.data.loc[raked.data["cohort"] == "general", "rake_age"].dropna().unique()
    assert "70-79+80+" in set(bands)


def test_raking_refuses_impossible_margins() -> None:
    frame = pd.DataFrame({"h": "a", "N": 1000, "sex": ["m", "f"] * 20, "age": ["y", "o"] * 20})
    design = Design(frame, "h", None, "N")
    with pytest.raises(DataError, match="categories"):
        design.rake({"sex": pd.Series({"m": 500.0, "x": 500.0})})
    with pytest.raises(DataError, match="same total"):
        design.rake(
            {"sex": pd.Series({"m": 500.0, "f": 500.0}), "age": pd.Series({"y": 1.0, "o": 2.0})}
        )
    with pytest.raises(DataError, match="zero"):
        design.rake({"sex": pd.Series({"m": 0.0, "f": 1000.0})})
    with pytest.raises(UsageError):
        design.rake({"sex": pd.Series({"m": 500.0, "f": 500.0})}, stratum="nope")


def test_child_weights_are_household_weights_times_k() -> None:
    data = synthetic.responses()
    design = child_design(data, synthetic.counts())
    base = attach_weights(data, synthetic.counts())["weight"]
    k = data["eligible_children"]
    guardian = data["cohort"].str.endswith("guardian")
    known = guardian & k.between(1, 9)
    np.testing.assert_allclose(design.weights[known], (base * k)[known])
    assert (design.data[K_MISSING] == (guardian & ~k.between(1, 9))).all()
    assert design.data[K_MISSING].sum() > 0
    # Households without k and person cohorts hold no child-level value, but stay rows.
    assert design.data.loc[~known, "k6"].isna().all()
    assert len(design.data) == len(data)
    totals = design.by("cohort").total("k6")
    by_hand = (base * k * data["k6"]).where(known & (data["k6"] >= 0)).groupby(data["cohort"]).sum()
    assert totals.loc["infant_guardian", "estimate"] == pytest.approx(by_hand["infant_guardian"])
    assert set(totals.index) == {"infant_guardian", "elementary_guardian"}


def test_pooling_rules() -> None:
    items = poolable_items("青少年・一般")
    assert {"sex", "k6", "k6_total", "ideation_ever"} <= set(items)
    assert "age_band" not in items  # students are not asked it
    assert "ideation_coping" not in items  # other options on the students' forms
    assert "ideation_coping" in poolable_items("青少年")
    assert "st_opinion" not in poolable_items("青少年")  # free text is never tabulated
    with pytest.raises(UsageError, match="never pooled"):
        poolable_items("保護者")
    design = study_design(synthetic.responses(), synthetic.counts())
    with pytest.raises(DataError, match="cannot be pooled"):
        pooled(design, "青少年", "age_band")
    youth = pooled(design, "青少年", "ideation_ever").proportion("ideation_ever")
    manual = (
        design.assign(
            y=design.data["cohort"]
            .where(design.data["cohort"].isin(["junior_high", "high_school"]))
            .notna()
            .map({True: "youth"})
        )
        .by("y")
        .proportion("ideation_ever")
    )
    np.testing.assert_allclose(youth.to_numpy(float), manual.to_numpy(float))
