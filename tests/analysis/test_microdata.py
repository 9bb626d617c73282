"""The microdata file: k-anonymous on the keys, l-diverse in the sensitive variables, no free
text, read back from its CSV and .sav."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.analysis import exports, microdata
from survey.analysis.weights import CohortCounts
from survey.cohorts import COHORTS
from survey.forms.loader import Form, current_forms, load_forms
from tests.analysis import responses

KEYS = ["cohort", "area", "child_stage_group", "grade_group", "age_group", "sex_group"]
SENSITIVE = ["k6_band", "ideation_ever_yes", "ideation_past_year"]


@pytest.fixture(scope="module")
def forms() -> dict[str, Form]:
    return current_forms(load_forms())


def violations(frame: pd.DataFrame, k: int, l_div: int = 2) -> list[str]:
    """Written apart from survey.analysis.microdata.check, so one cannot hide the other's bug."""
    out = []
    for key, rows in frame.groupby(KEYS, dropna=False):
        if len(rows) < k:
            out.append(f"{key}: {len(rows)}")
        for s in SENSITIVE:
            values = pd.to_numeric(rows[s], errors="coerce").dropna()
            if values.empty:
                continue  # not asked in this class
            valid = set(values[(values >= 0) & ~((s == "k6_band") & (values == 9))])
            if len(valid) < l_div:
                out.append(f"{key}: {s} {sorted(valid)}")
    return out


def free_text_columns(frame: pd.DataFrame, forms: dict[str, Form]) -> list[str]:
    text = {
        v.id for f in load_forms().values() for v in f.variables() if v.type in ("text", "longtext")
    }
    return [c for c in frame.columns if c in text or c.endswith("_answered")]


def test_the_demo_dataset(forms: dict[str, Form], tmp_path: Path) -> None:
    df = responses.dataset()
    micro = microdata.build(df, forms, responses.counts(df), 10)
    frame = micro.frame
    assert violations(frame, 10) == [] and microdata.check(frame, 10, forms) == []
    assert free_text_columns(frame, forms) == []
    assert "opinion_answered" in df.columns  # the dataset has it; the microdata not
    for gone in ("response_id", "week", "channel", "k6_total", "k6_1", "district", "sex"):
        assert gone not in frame.columns
    summary = micro.summary()
    for cohort, report in summary["cohorts"].items():
        assert report["published"] == (frame["cohort"] == cohort).sum()
        assert report["published"] == report["rows"] - report["removed_rows"]
        assert report["smallest_class"] >= 10
    assert len(frame) >= 0.9 * len(df)  # coarsening, not discarding
    # The general cohort keeps two of its keys: not everything is recoded away.
    general = frame[frame["cohort"] == "general"]
    assert sum(general[c].nunique() > 1 for c in ("area", "age_group", "sex_group")) >= 2
    # Files: CSV with BOM, .sav with labels and the missing range.
    import pyreadstat

    csv = exports.csv_bytes(frame)
    assert csv.startswith("\ufeff".encode())
    back = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig")
    assert list(back.columns) == list(frame.columns) and len(back) == len(frame)
    # Codes are written as the integers they are ("5", not "5.0"), also in columns that
    # are blank for the cohorts not asked; multiple choice as its picks ("1 3"); only the
    # weight and the population are not codes.
    fields = pd.read_csv(io.BytesIO(csv), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    codes = fields.drop(columns=["cohort", "weight", "fpc"])
    assert codes.apply(lambda c: c.str.fullmatch(r"(-?\d+( -?\d+)*)?")).all().all()
    assert (codes == "").any().any()  # a column some cohorts were not asked
    sav = tmp_path / "m.sav"
    exports.write_labelled_sav(frame, micro.labels, micro.values, sav)
    data, meta = pyreadstat.read_sav(str(sav), user_missing=True)
    assert len(data) == len(frame)
    assert meta.column_names_to_labels["area"] == "お住まいの地域"
    assert meta.variable_value_labels["area"][-9] == "無回答・秘匿"
    assert "宗岡地区" in meta.variable_value_labels["area"].values()
    assert meta.variable_value_labels["eligible_children"][3] == "3人以上"
    assert meta.missing_ranges["k6_band"] == [{"lo": -9.0, "hi": -1.0}]
    assert violations(data, 10) == []  # what the file holds, read back


def test_rows_are_shuffled(forms: dict[str, Form]) -> None:
    """Two builds of one dataset order their rows differently (the dataset's order would
    link a row back to the internal file)."""
    df = responses.dataset({"general": 300})
    counts = responses.counts(df)
    a = microdata.build(df, forms, counts, 10).frame
    b = microdata.build(df, forms, counts, 10).frame
    assert len(a) == len(b)
    assert not a.equals(b)
    ordered = ["area", "age_group", "sex_group", *SENSITIVE]
    assert (
        a.sort_values(ordered)
        .reset_index(drop=True)[ordered]
        .equals(b.sort_values(ordered).reset_index(drop=True)[ordered])
    )


def _random_dataset(
    seed: int, sizes: list[int], skew: float, forms: dict[str, Form]
) -> pd.DataFrame:
    """Keys with skewed distributions (rare categories), missing codes, sensitive values
    often concentrated: the hard cases for k-anonymity and l-diversity."""
    rng = np.random.default_rng(seed)
    parts = []
    for cohort, n in zip(COHORTS, sizes, strict=True):
        if n == 0:
            continue
        columns: dict[str, object] = {"cohort": [cohort] * n}
        for var in ("sex", "age_band", "district", "grade", "child_stage"):
            codes = [o.code for v in forms[cohort].variables() if v.id == var for o in v.options]
            if not codes:
                columns[var] = pd.array([pd.NA] * n, dtype="Int64")
                continue
            p = rng.dirichlet(np.full(len(codes), skew))
            values = rng.choice(codes, size=n, p=p)
            values = np.where(rng.random(n) < 0.05, rng.choice([-9, -7, -8, -6], size=n), values)
            columns[var] = pd.array(values, dtype="Int64")
        for s, options in (("k6_band", [1, 2, 3, 4, 9]), ("ideation_ever_yes", [0, 1])):
            p = rng.dirichlet(np.full(len(options), skew))
            columns[s] = pd.array(rng.choice(options, size=n, p=p), dtype="Int64")
        ever = np.asarray(columns["ideation_ever_yes"], dtype=np.int64)
        columns["ideation_past_year"] = pd.array(
            np.where(ever == 1, rng.integers(0, 2, size=n), 0), dtype="Int64"
        )
        columns["opinion_answered"] = pd.array(rng.integers(0, 2, size=n), dtype="Int64")
        columns["response_id"] = pd.array([f"{seed}-{i}" for i in range(n)], dtype="string")
        parts.append(pd.DataFrame(columns))
    return pd.concat(parts, ignore_index=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    sizes=st.lists(st.integers(0, 150), min_size=5, max_size=5).filter(lambda s: sum(s) > 0),
    skew=st.sampled_from([0.2, 1.0, 5.0]),
    k=st.integers(2, 15),
)
def test_k_anonymity_and_l_diversity_hold_on_random_data(
    seed: int, sizes: list[int], skew: float, k: int
) -> None:
    forms = current_forms(load_forms())
    df = _random_dataset(seed, sizes, skew, forms)
    counts = [CohortCounts(c, 10_000, 1_000, 0, int((df["cohort"] == c).sum())) for c in COHORTS]
    micro = microdata.build(df, forms, counts, k)
    assert violations(micro.frame, k) == []
    assert free_text_columns(micro.frame, forms) == [] and "response_id" not in micro.frame
    for cohort, report in micro.summary()["cohorts"].items():
        assert report["published"] == (micro.frame["cohort"] == cohort).sum()
