"""Confidence intervals and the reliability flags of published estimates.

The flag says whether a figure is statistically unreliable; it is kept apart from disclosure
control (invariant 6: small cells are suppressed whatever this flag says).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from survey.analysis.kernels import Bools, Floats, Ints

LEVEL = 0.95
_Z = float(stats.norm.ppf(1 - (1 - LEVEL) / 2))

# Means and totals: the long-standing NCHS rule (fewer than 30 rows, or RSE over 30 %).
MIN_N = 30
MAX_RSE = 0.30
# Proportions: NCHS Data Presentation Standards for Proportions (Parker et al. 2017).
MIN_EFFECTIVE_N = 30
MAX_CI_WIDTH = 0.30
MIN_WIDTH_FOR_RELATIVE = 0.05
MAX_RELATIVE_WIDTH = 1.30
MIN_DF = 8


def normal_ci(estimate: Floats, se: Floats) -> tuple[Floats, Floats]:
    """R's ``confint`` default for svymean/svytotal: estimate +/- z_{0.975} * SE."""
    return estimate - _Z * se, estimate + _Z * se


def korn_graubard(
    p: Floats, var: Floats, n: Ints, df: Ints, exact: Bools
) -> tuple[Floats, Floats, Floats]:
    """Korn-Graubard interval, as R's ``svyciprop(method = "beta")``; also returns n_eff.

    n_eff = p(1-p)/Var(p) * (t_{n-1}/t_df)^2 as R computes it. Where R gives NaN we decide:
    p = 0 or 1 (variance zero) takes n_eff = n, so the interval is the Clopper-Pearson one
    of n rows; a variance of zero with 0 < p < 1 (strata each all in or all out of the
    category, or fully enumerated: ``exact``) means no sampling error and the interval is
    the point; df < 1 leaves the interval undefined (NaN).
    """
    alpha = 1 - LEVEL
    p = np.asarray(p, dtype=np.float64)
    var = np.where(var <= 1e-12 * p * (1 - p), 0.0, var)  # rounding noise is no variance
    exact = exact | ((var == 0) & (p > 0) & (p < 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        neff = np.where(var > 0, p * (1 - p) / var, n.astype(np.float64))
        ratio = stats.t.ppf(alpha / 2, n - 1) / stats.t.ppf(alpha / 2, df)
        neff = np.where(var > 0, neff * ratio**2, neff)
        x = neff * p
        low = np.where(p > 0, stats.beta.ppf(alpha / 2, x, neff - x + 1), 0.0)
        high = np.where(p < 1, stats.beta.ppf(1 - alpha / 2, x + 1, neff - x), 1.0)
    point = exact & (var == 0)
    low = np.where(point, p, low)
    high = np.where(point, p, high)
    bad = (df < 1) & ~point
    low = np.where(bad, np.nan, low)
    high = np.where(bad, np.nan, high)
    return low, high, neff


def unreliable_mean(estimate: Floats, se: Floats, n: Ints) -> Bools:
    """n < 30, or relative SE over 30 % (an estimate of 0 with SE > 0 has infinite RSE)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rse = np.where(se > 0, se / np.abs(estimate), 0.0)
    return np.asarray((n < MIN_N) | ~(rse <= MAX_RSE), dtype=np.bool_)


def unreliable_proportion(
    p: Floats, var: Floats, n: Ints, df: Ints, low: Floats, high: Floats
) -> Bools:
    """NCHS 2017 for proportions.

    Unreliable when: the base n or the effective sample size n/deff (never above n; n itself
    when p is 0 or 1) is under 30; the Korn-Graubard CI is 0.30 wide or more; the CI is over
    0.05 wide and its width relative to p exceeds 130 % (not applied at p = 0, where the
    ratio is undefined and the absolute width already decides); or the design df is under 8
    (NCHS: "statistical review"; we flag it). An undefined CI is unreliable.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        srs = np.where(var > 0, p * (1 - p) / var, np.inf)
        neff = np.minimum(n.astype(np.float64), srs)
        width = high - low
        relative = np.where(p > 0, width / p, 0.0)
    flag = (n < MIN_N) | (neff < MIN_EFFECTIVE_N) | (df < MIN_DF)
    flag |= ~(width < MAX_CI_WIDTH)  # NaN width counts as unreliable
    flag |= (width > MIN_WIDTH_FOR_RELATIVE) & (relative > MAX_RELATIVE_WIDTH)
    return np.asarray(flag, dtype=np.bool_)
