"""Inclusion probabilities of guardian households, from the draw's household types.

The guardian draw is a simple random sample of the N'_h households left after leaving out
those holding anyone drawn earlier. A household is left in when none of its members is drawn
in an earlier person cohort c (SRSWOR of n_c out of N'_c; with m members in that frame the
chance is prod_{j<m} (N'_c - n_c - j)/(N'_c - j), exact) and, if it is in an earlier guardian
frame g, it was not drawn there (n_g/N'_g of the households left; approximate, N'_g being
random). Draws of different cohorts are independent (their own keyed ranks), so

    P_t = prod_c P(no member of a type-t household drawn in c),    pi_t = P_t * n_h / N'_h

(to first order: N'_h is itself random, concentrated around sum_t N_t P_t). Against the
naive n_h/N'_h a type strays by pi_t/(n_h/N'_h) - 1 = P_t - 1. bench/inclusion_montecarlo.py
checks the formula on the synthetic register against repeated real draws.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from survey.cohorts import GUARDIAN_COHORTS
from survey.errors import DataError
from survey.models import Draw


def left_in(members: dict[str, int], draw: Draw) -> float:
    """P_t: the chance that a household with these members in earlier frames is left in."""
    p = 1.0
    for cohort, m in members.items():
        available = draw.frame[cohort] - draw.removed.get(cohort, 0)
        n = draw.sample.get(cohort, 0)
        if not m or not n:
            continue
        if cohort in GUARDIAN_COHORTS:
            p *= 1 - n / available
        else:
            for j in range(m):
                p *= max(0.0, (available - n - j) / (available - j))
    return p


def _label(members: dict[str, int]) -> str:
    return ", ".join(f"{c}={m}" for c, m in members.items())


def inclusion_table(draw: Draw) -> pd.DataFrame:
    """Per guardian cohort and household type: households N_t, left out m_t, P_t, pi_t,
    n_h/N'_h, the relative deviation and the share left in observed at this draw."""
    if draw.household_types is None:
        raise DataError(
            "この抽出には世帯の型の集計がありません（0011 より前の抽出）。",
            "This draw did not record household types (drawn before revision 0011).",
        )
    rows: list[dict[str, Any]] = []
    for t in draw.household_types:
        cohort = t["cohort"]
        available = draw.frame[cohort] - draw.removed.get(cohort, 0)
        naive = draw.sample[cohort] / available if available else float("nan")
        p = left_in(t["members"], draw)
        rows.append(
            {
                "cohort": cohort,
                "type": _label(t["members"]),
                "households": t["households"],
                "removed": t["removed"],
                "observed_left_in": 1 - t["removed"] / t["households"],
                "left_in": p,
                "inclusion": p * naive,
                "naive": naive,
                "deviation": p - 1,
                "group": _adult_group(t["members"]),
            }
        )
    return pd.DataFrame(rows).set_index(["cohort", "type"])


# The forms' household composition (adult_background: household) -> adults in the household,
# the part of a type the answers reveal. ひとり暮らし and 夫婦のみ cannot hold the child;
# they, その他 and no answer take the cohort's average.
COMPOSITION_ADULTS = {6: "1", 3: "2", 4: "3+"}
UNKNOWN = "?"
MAX_DEVIATION = 0.05


def _adult_group(members: dict[str, int]) -> str:
    adults = int(members.get("general", 0))
    return "1" if adults <= 1 else "2" if adults == 2 else "3+"


def composition_factors(draw: Draw, cohort: str) -> pd.Series[float]:
    """Weight factors 1/P-bar_G by adult group G ("1", "2", "3+", and "?" for the rest).

    P-bar_G = sum_t N_t P_t / sum_t N_t over the types of group G: the expected share of G's
    households left in. Multiplying N'_h/n_h by 1/P-bar_G makes the sampled households of G
    stand for all of G's N_G households, those left out included; "?" uses the cohort's
    P-bar (expected N'_h / N_h)."""
    types = [t for t in draw.household_types or () if t["cohort"] == cohort]
    if not types:
        raise DataError(
            f"{cohort} の世帯の型が記録されていません。",
            f"No household types recorded for {cohort}.",
        )
    frame = pd.DataFrame(
        {
            "group": [_adult_group(t["members"]) for t in types],
            "households": [float(t["households"]) for t in types],
            "kept": [t["households"] * left_in(t["members"], draw) for t in types],
        }
    )
    sums = frame.groupby("group")[["households", "kept"]].sum()
    factors = sums["households"] / sums["kept"]
    factors[UNKNOWN] = frame["households"].sum() / frame["kept"].sum()
    return factors


def needs_correction(draw: Draw, cohort: str) -> bool:
    """Whether a type of the cohort strays from n_h/N'_h by more than 5 % (relative)."""
    table = inclusion_table(draw).reset_index()
    deviation = table.loc[table["cohort"] == cohort, "deviation"]
    return bool((deviation.abs() > MAX_DEVIATION).any())


def household_factors(df: pd.DataFrame, draw: Draw) -> pd.Series[float]:
    """Per response row: the composition factor of its guardian cohort (1 for person
    cohorts, and for guardian cohorts whose types all stay within 5 %)."""
    out = pd.Series(1.0, index=df.index)
    for cohort in sorted(GUARDIAN_COHORTS):
        rows = df["cohort"] == cohort
        if not rows.any() or not needs_correction(draw, cohort):
            continue
        factors = composition_factors(draw, cohort)
        composition = (
            df.loc[rows, "household"]
            if "household" in df
            else pd.Series(index=df.index[rows], dtype=float)
        )
        groups = composition.map(COMPOSITION_ADULTS).fillna(UNKNOWN)
        out[rows] = groups.map(factors).fillna(factors[UNKNOWN]).to_numpy()
    return out
