"""The study's designs: missing codes, raking of the general cohort, child-level weights,
pooling rules. The engine (survey.analysis.design) knows none of this."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from survey.analysis.design import Design, Domains
from survey.analysis.inclusion import household_factors
from survey.analysis.weights import CohortCounts, attach_weights
from survey.cohorts import GUARDIAN_COHORTS
from survey.errors import DataError, UsageError
from survey.forms.loader import Form, current_forms, load_forms
from survey.forms.schema import MISSING
from survey.models import Draw, FrameCount

# -1 not applicable, -6 illegible, -7 refused, -8 invalid, -9 no answer: never a value.
MISSING_CODES: tuple[int, ...] = tuple(sorted(MISSING))
DESIGN_COLUMNS = ("cohort", "weight", "N")


def study_design(
    df: pd.DataFrame, counts: Iterable[CohortCounts], draw: Draw | None = None
) -> Design:
    """Stratified by cohort, weights w_h, fpc N'_h, the project's missing codes missing.

    With the draw (and its household types recorded), guardian households' weights carry
    the composition factor of survey.analysis.inclusion: households with more adults were
    more often left out of the guardian draw, and stand for those left out.
    """
    data = with_rake_columns(attach_weights(df, counts))
    if draw is not None and draw.household_types is not None:
        data["weight"] = data["weight"] * household_factors(data, draw)
    return Design(data, strata="cohort", weights="weight", fpc="N", missing=MISSING_CODES)


# --- raking the general cohort to the register ---------------------------------------------

# The form's options -> the frame's labels (survey.register.reader.SEX_LABELS and
# survey.sampling.cohorts.age_band). その他 (3) and 回答しない (4) have no register
# counterpart: those respondents are not raked (see rake_general).
FORM_SEX = {1: "男", 2: "女"}
FORM_AGE = {
    1: "18-19",
    2: "20-29",
    3: "30-39",
    4: "40-49",
    5: "50-59",
    6: "60-69",
    7: "70-79",
    8: "80+",
}
RAKE_SEX, RAKE_AGE = "rake_sex", "rake_age"


def with_rake_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Add the frame's sex and age band of each general respondent (NaN: no match)."""
    out = df.copy()
    general = out["cohort"] == "general"
    for source, target, mapping in (("sex", RAKE_SEX, FORM_SEX), ("age_band", RAKE_AGE, FORM_AGE)):
        values = out[source] if source in out.columns else pd.Series(np.nan, index=out.index)
        out[target] = values.map(mapping).where(general)
    return out


def frame_margins(cells: Iterable[FrameCount]) -> tuple[pd.Series[float], pd.Series[float]]:
    """The general cohort's N' by sex and by age band, from the draw's frame counts."""
    frame = pd.DataFrame(
        [
            {"sex": c.sex, "age": c.age_band, "n": c.units - c.removed}
            for c in cells
            if c.cohort == "general"
        ]
    )
    if frame.empty:
        raise DataError(
            "一般市民の枠の集計がありません。", "The draw holds no frame counts for general."
        )
    sex = frame.groupby("sex")["n"].sum().astype(float)
    age = frame.groupby("age")["n"].sum().astype(float)
    return sex, age


def rake_general(design: Design, cells: Iterable[FrameCount]) -> Design:
    """Rake the general cohort to the register's sex and age-band margins.

    Respondents whose sex is その他 / 回答しない / missing, or whose age band is missing,
    keep their weight; the others are raked to the register's margins scaled to their own
    weighted total (so the cohort still sums to N'(n-u)/n, and the unmatched respondents
    are taken to spread over the cells like the matched ones). An age band without any
    matched respondent is merged with its younger neighbour (the youngest with the next).
    """
    sex, age = frame_margins(cells)
    data = design.data
    matched = (data["cohort"] == "general") & data[RAKE_SEX].notna() & data[RAKE_AGE].notna()
    total = float(design.weights[matched].sum())
    if total == 0:
        raise DataError("レイキングできる回答がありません。", "No general respondent to rake.")
    bands = list(age.index)
    order = [b for b in FORM_AGE.values() if b in bands]
    present = set(data.loc[matched, RAKE_AGE])
    merged: dict[str, str] = {b: b for b in order}
    groups = [[b] for b in order]
    while any(not present.intersection(g) for g in groups) and len(groups) > 1:
        i = next(i for i, g in enumerate(groups) if not present.intersection(g))
        j = i - 1 if i > 0 else 1
        groups[j] = sorted(groups[j] + groups[i], key=order.index)
        del groups[i]
    for g in groups:
        for b in g:
            merged[b] = "+".join(g)
    age_targets = age.groupby(lambda b: merged.get(str(b), str(b))).sum()
    column = data[RAKE_AGE].map(merged)
    raked = design.assign(**{RAKE_AGE: column})
    scale = total / float(sex.sum())
    return raked.rake({RAKE_SEX: sex * scale, RAKE_AGE: age_targets * scale}, stratum="general")


# --- child-level estimates (guardian cohorts) ----------------------------------------------

ELIGIBLE_CHILDREN = "eligible_children"
K_MISSING = "eligible_children_missing"


def child_design(
    df: pd.DataFrame, counts: Iterable[CohortCounts], k: str = ELIGIBLE_CHILDREN
) -> Design:
    """Estimates about "the child" of guardian households: weight w_h * k.

    One child of the k eligible ones is chosen per household, so the child's inclusion
    probability is the household's divided by k. A household whose k is missing or out of
    range (integer 1-9) cannot be weighted: its row stays in the design (so the SEs stay
    right) but every analysis value is set missing, i.e. child-level estimates cover the
    households that gave k (means and shares assume k is missing at random; totals cover
    only those households). ``eligible_children_missing`` flags them; person cohorts'
    rows likewise hold no child-level value.
    """
    data = attach_weights(df, counts)
    if k not in data.columns:
        data[k] = np.nan
    values = pd.to_numeric(data[k], errors="coerce")
    ok = values.between(1, 9) & (values == values.round())
    guardian = data["cohort"].isin(sorted(GUARDIAN_COHORTS))
    usable = ok & guardian
    data[K_MISSING] = guardian & ~ok
    data["weight"] = data["weight"] * values.where(usable, 1.0)
    analysis = [c for c in data.columns if c not in (*DESIGN_COLUMNS, K_MISSING)]
    for column in analysis:
        data[column] = data[column].where(usable)  # numbers stay numbers (NaN), text text
    return Design(data, strata="cohort", weights="weight", fpc="N", missing=MISSING_CODES)


# --- pooling -------------------------------------------------------------------------------

# Guardian cohorts are never pooled, with each other or with person cohorts.
POOLS: dict[str, tuple[str, ...]] = {
    "青少年": ("junior_high", "high_school"),
    "青少年・一般": ("junior_high", "high_school", "general"),
}


def _signature(form: Form, item_id: str) -> Any:
    for item in form.items():
        if item.id == item_id:
            if item.type in ("text", "longtext"):
                return None  # free text never appears in tables (invariant 6)
            return (
                item.type,
                tuple(o.code for o in item.options or ()),
                tuple(r.id for r in item.rows or ()),
                item.min,
                item.max,
            )
    for d in form.derived:
        if d.id == item_id:
            return d.model_dump(exclude={"label", "value_labels", "missing_label"})
    return None


def poolable_items(pool: str, forms: dict[str, Form] | None = None) -> list[str]:
    """Items (and derived variables) the definitions make poolable over ``pool``: present in
    every form of the pool with the same type, option codes, grid rows and range (or the
    same derivation), whatever the wording (students' forms word items their own way)."""
    cohorts = _pool(pool)
    forms = forms if forms is not None else current_forms(load_forms())
    chosen = [forms[c] for c in cohorts]
    ids = [i.id for i in chosen[0].items()] + [d.id for d in chosen[0].derived]
    out = []
    for item_id in ids:
        signatures = [_signature(f, item_id) for f in chosen]
        if signatures[0] is not None and all(s == signatures[0] for s in signatures):
            out.append(item_id)
    return out


def _pool(pool: str) -> Sequence[str]:
    if pool not in POOLS:
        raise UsageError(
            f"併合できるのは {', '.join(POOLS)} だけです。",
            f"Only these pools exist: {', '.join(POOLS)} (guardian cohorts are never pooled).",
        )
    return POOLS[pool]


def pooled(design: Design, pool: str, var: str, forms: dict[str, Form] | None = None) -> Domains:
    """Estimates over a pool of cohorts (a domain of the full design), for a poolable item."""
    if var not in poolable_items(pool, forms):
        raise DataError(
            f"{var} は {pool} で併合できません（設問・選択肢が調査票間で異なります）。",
            f"{var} cannot be pooled over {pool}: question or options differ between forms.",
        )
    inside = design.data["cohort"].isin(list(_pool(pool)))
    return design.assign(pool=pd.Series(pool, index=inside.index).where(inside)).by("pool")
