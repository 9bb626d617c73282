"""The engine's semantics: properties (hypothesis), missing values, edge cases, flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import stats

from survey.analysis import Design
from survey.analysis.study import MISSING_CODES
from survey.errors import DataError

COLUMNS = ["estimate", "se", "ci_low", "ci_high", "df", "n"]


@st.composite
def samples(draw: st.DrawFn) -> pd.DataFrame:
    strata = draw(st.integers(1, 4))
    parts = []
    for h in range(strata):
        n = draw(st.integers(2, 12))
        population = draw(st.integers(n, 5 * n))
        parts.append(
            pd.DataFrame(
                {
                    "h": f"s{h}",
                    "N": population,
                    "y": draw(st.lists(st.integers(-9, 20), min_size=n, max_size=n)),
                    "c": draw(st.lists(st.sampled_from("abc"), min_size=n, max_size=n)),
                    "d": draw(st.lists(st.sampled_from([1, 2, -9]), min_size=n, max_size=n)),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def estimates(design: Design) -> list[pd.DataFrame]:
    return [
        design.mean("y"),
        design.total("y"),
        design.proportion("c"),
        design.by("d").mean("y"),
        design.by(["d", "c"]).total("y"),
        design.by("d").proportion("c"),
    ]


@settings(max_examples=60, deadline=None)
@given(samples(), st.randoms(use_true_random=False))
def test_estimates_do_not_depend_on_row_order(data: pd.DataFrame, rnd: object) -> None:
    order = list(range(len(data)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    shuffled = data.iloc[order].reset_index(drop=True)
    a = estimates(Design(data, "h", None, "N", missing=MISSING_CODES))
    b = estimates(Design(shuffled, "h", None, "N", missing=MISSING_CODES))
    for x, y in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, y, rtol=1e-9, atol=1e-9)


ALL_MISSING = pd.DataFrame({"h": "s0", "N": 4, "y": [-9, -7], "c": ["a", "b"], "d": [1, 2]})


@settings(max_examples=60, deadline=None)
@given(samples())
@example(ALL_MISSING)  # found by hypothesis: no valid y at all
def test_a_domain_of_everything_is_the_full_design(data: pd.DataFrame) -> None:
    design = Design(data.assign(all="x"), "h", None, "N", missing=MISSING_CODES)
    for method in ("mean", "total", "proportion"):
        full = getattr(design, method)("y" if method != "proportion" else "c")
        domain = getattr(design.by("all"), method)("y" if method != "proportion" else "c")
        if (full["n"] == 0).all():
            # The whole sample has no value: its row says so (n = 0), while a domain without
            # a value has no row at all (as documented in Design._estimate).
            assert domain.empty
            continue
        np.testing.assert_allclose(
            domain[COLUMNS].to_numpy(float), full[COLUMNS].to_numpy(float), rtol=1e-9, atol=1e-9
        )


@settings(max_examples=40, deadline=None)
@given(samples())
def test_no_sampling_error_when_every_stratum_is_enumerated(data: pd.DataFrame) -> None:
    enumerated = data.assign(N=data.groupby("h")["h"].transform("size"))
    design = Design(enumerated, "h", None, "N", missing=MISSING_CODES)
    for table in estimates(design):
        assert (table["se"] == 0).all()
    props = design.proportion("c")
    assert (props["ci_low"] == props["estimate"]).all()
    assert (props["ci_high"] == props["estimate"]).all()


def test_an_enumerated_stratum_adds_no_variance() -> None:
    data = pd.DataFrame(
        {"h": ["a"] * 4 + ["b"] * 4, "N": [4] * 4 + [40] * 4, "y": [1, 5, 2, 8, 3, 3, 9, 1]}
    )
    design = Design(data, "h", None, "N")
    by = design.by("h").total("y")
    assert by.loc["a", "se"] == 0
    assert design.total("y").loc["y", "se"] == pytest.approx(by.loc["b", "se"])


def test_missing_codes_never_enter_a_mean() -> None:
    data = pd.DataFrame({"cohort": ["g"] * 6, "N": 100, "k6": [4, 6, -9, 8, -7, -1]})
    study = Design(data, "cohort", None, "N", missing=MISSING_CODES).mean("k6")
    assert study.loc["k6", "estimate"] == 6  # (4 + 6 + 8) / 3
    assert study.loc["k6", "n"] == 3
    # Outside data keep -9 as a value when nobody says otherwise (R's api data would).
    raw = Design(data, "cohort", None, "N").mean("k6").loc["k6", "estimate"]
    assert raw == pytest.approx((4 + 6 - 9 + 8 - 7 - 1) / 6)


def test_missing_values_are_a_domain_left_out_not_dropped_rows() -> None:
    """na.rm = TRUE as R: the rows stay in the design (n_h counts them) and only lose
    their influence, which is what keeps the SE right."""
    data = pd.DataFrame({"h": ["a"] * 6 + ["b"] * 6, "N": [60] * 6 + [90] * 6})
    data["y"] = [1.0, 2, np.nan, 4, 5, np.nan, 2, 2, 3, np.nan, 9, 1]
    kept = Design(data, "h", None, "N").mean("y").loc["y"]
    # The same figure by hand: mean over the domain of non-missing rows, zero-padded.
    w = np.where(data["h"] == "a", 10.0, 15.0)
    ok = data["y"].notna().to_numpy()
    y = data["y"].fillna(0).to_numpy()
    mean = (w * y)[ok].sum() / w[ok].sum()
    z = np.where(ok, w * (y - mean) / w[ok].sum(), 0.0)
    var = 0.0
    for h, big_n in (("a", 60), ("b", 90)):
        zh = z[data["h"] == h]
        var += (1 - 6 / big_n) * 6 / 5 * ((zh - zh.mean()) ** 2).sum()
    assert kept["estimate"] == pytest.approx(mean)
    assert kept["se"] == pytest.approx(np.sqrt(var))
    assert kept["n"] == 9 and kept["df"] == 7


def test_a_single_row_stratum_is_refused_unless_enumerated() -> None:
    data = pd.DataFrame({"h": ["a", "a", "b"], "N": [10, 10, 5], "y": [1, 2, 3]})
    with pytest.raises(DataError, match="single"):
        Design(data, "h", None, "N")
    Design(data.assign(N=[10, 10, 1]), "h", None, "N")  # b is a census of one


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"h": ["a", "a"], "N": [10, 11], "y": [1, 2]}), "fpc"),
        (pd.DataFrame({"h": ["a", "a"], "N": [1, 1], "y": [1, 2]}), "fpc"),
        (pd.DataFrame({"h": ["a", None], "N": [10, 10], "y": [1, 2]}), "strata"),
    ],
)
def test_bad_designs_are_refused(frame: pd.DataFrame, message: str) -> None:
    with pytest.raises(DataError, match=message):
        Design(frame, "h", None, "N")


def test_negative_weights_are_refused() -> None:
    frame = pd.DataFrame({"h": ["a", "a"], "w": [1.0, -1.0], "y": [1, 2]})
    with pytest.raises(DataError, match="positive"):
        Design(frame, "h", "w", None)


def test_proportion_intervals_at_zero_are_clopper_pearson() -> None:
    data = pd.DataFrame({"h": "a", "N": 10_000, "c": ["no"] * 40})
    design = Design(data, "h", None, "N")
    row = design.proportion("c").loc["no"]
    assert row["estimate"] == 1 and row["ci_high"] == 1
    assert row["ci_low"] == pytest.approx(stats.beta.ppf(0.025, 40, 1))


def test_unreliable_flags() -> None:
    rng = np.random.default_rng(1)
    small = pd.DataFrame({"h": "a", "N": 1000, "y": rng.normal(10, 1, 20)})
    assert Design(small, "h", None, "N").mean("y").loc["y", "unreliable"]  # n < 30
    noisy = pd.DataFrame({"h": "a", "N": 1000, "y": rng.normal(0.5, 5, 200)})
    assert Design(noisy, "h", None, "N").mean("y").loc["y", "unreliable"]  # RSE > 30 %
    good = pd.DataFrame({"h": "a", "N": 1000, "y": rng.normal(10, 1, 200)})
    assert not Design(good, "h", None, "N").mean("y").loc["y", "unreliable"]

    # Proportions (NCHS 2017): 40 rows, share 0.5: KG width about 0.33 -> unreliable;
    # 400 rows: width 0.1 -> reliable; 400 rows, share 1/400: width ~0.014 < 0.05 -> kept
    # although its relative width is huge; share 8/400: width ~0.03 -> reliable.
    def flag(n: int, yes: int) -> bool:
        frame = pd.DataFrame({"h": "a", "N": 100_000, "c": ["y"] * yes + ["n"] * (n - yes)})
        return bool(Design(frame, "h", None, "N").proportion("c").loc["y", "unreliable"])

    assert flag(40, 20)
    assert not flag(400, 200)
    assert not flag(400, 1)
    assert not flag(400, 8)
    assert flag(100, 2)  # width ~0.07 > 0.05 and relative width ~3.5 > 1.3


def test_chisq_needs_two_categories() -> None:
    frame = pd.DataFrame({"h": "a", "N": 100, "r": ["x"] * 10, "c": ["p", "q"] * 5})
    with pytest.raises(DataError, match="two categories"):
        Design(frame, "h", None, "N").chisq("r", "c")


@settings(max_examples=60, deadline=None)
@given(samples(), st.lists(st.floats(0.5, 40.0), min_size=48, max_size=48))
def test_shares_of_code_arrays_equal_the_domain_proportions(
    data: pd.DataFrame, weights: list[float]
) -> None:
    """Design.shares (the tables' one-pass form) gives by(d).proportion(c)'s figures."""
    data = data.assign(w=weights[: len(data)])
    design = Design(data, "h", "w", "N", missing=MISSING_CODES)
    expected = design.by("d").proportion("c")
    codes = data["c"].map({"a": 0, "b": 1, "c": 2}).to_numpy(dtype=np.int64)
    domain = data["d"].map({1: 0, 2: 1, -9: -1}).to_numpy(dtype=np.int64)
    got = design.shares(codes, 3, domain)
    # Given only the rows that can count (positions in the design): the same table.
    some = np.flatnonzero(domain >= 0)
    pd.testing.assert_frame_equal(design.shares(codes[some], 3, domain[some], some), got)
    # by().proportion keeps the categories present in the column; shares all of 0..k-1.
    present = sorted(set(data["c"]))
    keep = [("abc"[c] in present) for c in got.index.get_level_values(1)]
    got = got[keep]
    assert len(got) == len(expected)
    np.testing.assert_allclose(
        got[COLUMNS].to_numpy(float), expected[COLUMNS].to_numpy(float), rtol=1e-9, atol=1e-12
    )


@settings(max_examples=40, deadline=None)
@given(samples())
def test_rao_scott_vcov_closed_form_equals_influence_matrix(data: pd.DataFrame) -> None:
    # The test's covariance of cell shares from sums per (cell, stratum) must equal the one
    # from the n x k influence matrix it replaced, also with strata the table misses.
    from survey.analysis.kernels import proportions_vcov, vcov_rows

    design = Design(data, "h", None, "N", missing=MISSING_CODES)
    c, _ = design.codes("c")
    d, _ = design.codes("d")
    rows = np.flatnonzero((c >= 0) & (d >= 0))
    if len(rows) == 0:
        return
    k = (int(c.max()) + 1) * 2
    cell = c[rows] * 2 + np.clip(d[rows], 0, 1)
    w = design._w[rows]
    p = np.bincount(cell, weights=w, minlength=k) / w.sum()
    z = np.tile(-p, (len(rows), 1))
    z[np.arange(len(rows)), cell] += 1.0
    z *= (w / w.sum())[:, None]
    strata = design._strata
    expected = vcov_rows(strata, (), rows, z)
    got = proportions_vcov(strata, strata.codes[rows], cell, w, k)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-15)
