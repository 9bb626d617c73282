"""A synthetic five-cohort study (responses with the project's missing codes), written for
the R reference script and read back by the tests. numpy's PCG64 stream is stable across
versions for these calls, so the file is the same wherever the tests run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from survey.analysis.weights import CohortCounts

# cohort: N'_h, n_h, u_h, r_h
COUNTS = {
    "infant_guardian": (3100, 500, 12, 260),
    "elementary_guardian": (4300, 500, 0, 300),
    "junior_high": (2150, 500, 5, 100),
    "high_school": (2240, 500, 0, 110),
    "general": (61000, 1250, 30, 430),
}
# the general cohort's frame by sex and age band (sums to its N')
SEX_TARGETS = {"男": 30200.0, "女": 30800.0}
AGE_TARGETS = {
    "18-19": 1500.0,
    "20-29": 8000.0,
    "30-39": 9000.0,
    "40-49": 10500.0,
    "50-59": 10000.0,
    "60-69": 8000.0,
    "70-79": 8500.0,
    "80+": 5500.0,
}


KIDS = [0.5, 0.35, 0.12, 0.03]  # eligible children per guardian household


def counts() -> list[CohortCounts]:
    return [CohortCounts(c, *v) for c, v in COUNTS.items()]


def _with_missing(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    out = values.astype(np.int64).copy()
    hit = rng.random(len(out)) < share
    out[hit] = rng.choice([-9, -7, -8], size=int(hit.sum()), p=[0.7, 0.2, 0.1])
    return out


def responses(seed: int = 2026) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for cohort, (_, _, _, r) in COUNTS.items():
        guardian = cohort.endswith("guardian")
        person = not guardian
        sex = rng.choice([1, 2, 3, 4], size=r, p=[0.46, 0.48, 0.03, 0.03])
        k6 = np.minimum(24, rng.poisson(4.5 if person else 5.5, size=r))
        k6 = k6 + (sex == 2) * rng.integers(0, 3, size=r)
        ideation = np.where(rng.random(r) < 0.15 + 0.01 * k6, 1, 2)
        frame = pd.DataFrame(
            {
                "cohort": cohort,
                "sex": _with_missing(rng, sex, 0.04),
                "age_band": (
                    _with_missing(rng, rng.choice(np.arange(1, 9), size=r), 0.03)
                    if cohort == "general"
                    else np.full(r, -1)
                ),
                "k6": _with_missing(rng, np.minimum(24, k6), 0.06),
                "ideation_ever": _with_missing(rng, ideation, 0.05),
                "district": rng.integers(1, 9, size=r),
                "eligible_children": (
                    _with_missing(
                        rng, rng.choice([1, 2, 3, 4], size=r, p=[0.5, 0.35, 0.12, 0.03]), 0.05
                    )
                    if guardian
                    else np.full(r, -1)
                ),
            }
        )
        parts.append(frame)
    return pd.concat(parts, ignore_index=True)


def write(folder: Path) -> Path:
    """Responses with weight and N columns (the study design's), and the raking targets."""
    from survey.analysis.weights import attach_weights

    folder.mkdir(parents=True, exist_ok=True)
    data = attach_weights(responses(), counts())
    path = folder / "synthetic.csv"
    data.to_csv(path, index=False, float_format="%.17g")
    pd.Series(SEX_TARGETS).rename_axis("sex").rename("Freq").to_csv(folder / "sex_targets.csv")
    pd.Series(AGE_TARGETS).rename_axis("age").rename("Freq").to_csv(folder / "age_targets.csv")
    return path
