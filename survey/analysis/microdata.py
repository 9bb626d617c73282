"""The microdata file for secondary analysis: no free text, coarsened, k-anonymous, l-diverse.

Method (the usual order of statistical disclosure control for public-use files, as in
sdcMicro and the Eurostat/ONS handbooks): drop what a secondary analysis does not need and
what links a row to the internal dataset (response id, form version, week of arrival,
channel, every ``<item>_answered`` of a free-text item, the K6 items and total, which the
band replaces); recode fixed coarsenings (all missing codes of a key to 無回答, the
household's children top-coded at 3, 祖父母 merged with その他); then per cohort

1. **global recoding**: each key variable has a hierarchy (district -> area -> not
   released; age band -> wider bands -> not released; sex, grade, child's stage -> not
   released). Of all combinations of levels whose local suppression touches at most
   ``MAX_TOUCHED`` of the cohort's rows, the one keeping most information (the sum of the
   recoded keys' entropies) is taken; if none does, the one touching fewest rows;
2. **local suppression**: a class (cohort × the key variables' released values) with fewer
   than ``k`` rows, or with fewer than ``L`` distinct valid values of a sensitive variable
   among those asked it, has its next key variable set to the missing code -9 (無回答・秘匿)
   in every row, in the order district, child's stage, grade, age, sex; the rows join the
   class with that value. A class that still fails with every key suppressed is left out.

Keys: the issue's quasi-identifiers (sex, age band, district, cohort) and, as the age of a
student and of a guardian's child, grade and the child's stage. Sensitive: the K6 band and
the two ideation prevalences. A suppressed value counts as its own category, so every row
lies in a class of at least ``k`` rows that all match anyone its released values match.
The threshold ``k`` is the study's suppression threshold. Rows are shuffled (CSPRNG): the
dataset's order would link them back to its rows.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from survey.analysis.microdata_keys import (
    KEYS,
    L_DIVERSITY,
    MAX_TOUCHED,
    MERGED,
    NA,
    NO_ANSWER,
    NOT_APPLICABLE,
    SENSITIVE,
    SUPPRESSED,
    TOP_CODED,
    Group,
    dropped,
    hierarchy,
    labels,
    output_codes,
    unknown,
)
from survey.analysis.weights import CohortCounts
from survey.cohorts import COHORTS
from survey.errors import DataError
from survey.forms.loader import Form


@dataclass(slots=True)
class CohortReport:
    rows: int
    published: int = 0
    levels: dict[str, str] = field(default_factory=dict)
    recoded_cells: int = 0  # key values merged with others (or not released) by recoding
    suppressed_cells: dict[str, int] = field(default_factory=dict)  # local suppression
    removed_rows: int = 0
    classes: int = 0
    smallest_class: int = 0


@dataclass(slots=True)
class Microdata:
    frame: pd.DataFrame
    labels: dict[str, str]  # column -> variable label
    values: dict[str, dict[int | float, str]]  # column -> value labels
    k: int
    report: dict[str, CohortReport]

    def summary(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "l": L_DIVERSITY,
            "rows": len(self.frame),
            "columns": len(self.frame.columns),
            "keys": [KEYS[v][0] for v in KEYS] + ["cohort"],
            "sensitive": list(SENSITIVE),
            "cohorts": {
                c: {
                    "rows": r.rows,
                    "published": r.published,
                    "levels": r.levels,
                    "recoded_cells": r.recoded_cells,
                    "suppressed_cells": r.suppressed_cells,
                    "removed_rows": r.removed_rows,
                    "classes": r.classes,
                    "smallest_class": r.smallest_class,
                }
                for c, r in self.report.items()
            },
        }


def _key_codes(df: pd.DataFrame, var: str) -> np.ndarray:
    """Source codes of a key: every missing code to 無回答; NA (not on the form) -1."""
    if var not in df.columns:
        return np.full(len(df), NOT_APPLICABLE, dtype=np.int64)
    raw = pd.to_numeric(df[var], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.where(np.isnan(raw), NOT_APPLICABLE, raw).astype(np.int64)
    return np.where(out < 0, np.where(out == NOT_APPLICABLE, NOT_APPLICABLE, NO_ANSWER), out)


def _sensitive_codes(df: pd.DataFrame, var: str, forms: dict[str, Form]) -> np.ndarray:
    """A sensitive variable's valid values; NO_ANSWER for any missing (the K6 band's 不詳
    included, it tells nothing of the score); NA where not asked."""
    if var not in df.columns:
        return np.full(len(df), NA, dtype=np.int64)
    raw = pd.to_numeric(df[var], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    out = np.where(np.isnan(raw), NA, raw).astype(np.int64)
    own = list(unknown(forms, var))
    return np.where(((out < 0) & (out != NA)) | np.isin(out, own), NO_ANSWER, out)


def _classes(keys: np.ndarray) -> np.ndarray:
    """Class number of each row of a key matrix (rows x keys, codes within -99..156)."""
    code = np.zeros(len(keys), dtype=np.int64)
    for j in range(keys.shape[1]):
        code = code * 256 + (keys[:, j] + 100)
    return np.unique(code, return_inverse=True)[1].reshape(-1)


def _fails(keys: np.ndarray, sensitive: np.ndarray, count: np.ndarray, k: int) -> np.ndarray:
    """Per aggregated row: whether its class breaks k-anonymity or l-diversity."""
    klass = _classes(keys)
    size = int(klass.max()) + 1 if len(klass) else 0
    bad = np.bincount(klass, weights=count, minlength=size) < k
    for j in range(sensitive.shape[1]):
        v = sensitive[:, j]
        asked = np.bincount(klass, weights=(v != NA), minlength=size) > 0
        valid = v >= 0
        pairs = np.unique(klass[valid] * 1_000 + v[valid])  # distinct (class, value)
        distinct = np.bincount(pairs // 1_000, minlength=size)
        bad |= asked & (distinct < L_DIVERSITY)
    return np.asarray(bad[klass])


def _suppress(
    keys: np.ndarray, sensitive: np.ndarray, count: np.ndarray, k: int, priority: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local suppression on the aggregated rows (one per distinct key and sensitive values,
    ``count`` rows each): the final keys, which rows are left out, cells suppressed per key."""
    keys = keys.copy()
    removed = np.zeros(len(keys), dtype=bool)
    cells = np.zeros(keys.shape[1], dtype=np.int64)
    while True:
        live = np.flatnonzero(~removed)
        bad = live[_fails(keys[live], sensitive[live], count[live], k)]
        if len(bad) == 0:
            return keys, removed, cells
        # Each failing row's first key (in priority) not yet suppressed; a class is uniform
        # in its keys, so it moves as a whole.
        values = keys[np.ix_(bad, priority)]
        can = (values != SUPPRESSED) & (values != NOT_APPLICABLE)
        first = np.where(can.any(axis=1), can.argmax(axis=1), -1)
        for j, column in enumerate(priority):
            hit = bad[first == j]
            keys[hit, column] = SUPPRESSED
            cells[column] += int(count[hit].sum())
        removed[bad[first < 0]] = True  # every key suppressed: the class still fails


def _entropy(values: np.ndarray, counts: np.ndarray) -> float:
    """Shannon entropy (nats) of a recoded key's distribution: what it tells an analyst."""
    _, inverse = np.unique(values, return_inverse=True)
    p = np.bincount(inverse, weights=counts) / counts.sum()
    return float(-(p * np.log(p)).sum())


def _recode(codes: np.ndarray, level: list[Group] | None) -> np.ndarray:
    if level is None:  # not released for the cohort
        return np.where(codes == NOT_APPLICABLE, NOT_APPLICABLE, SUPPRESSED)
    out = codes.copy()
    for g, (_, members) in enumerate(level):
        out[np.isin(codes, members)] = g
    return out


def _cohort(
    src: pd.DataFrame, hier: dict[str, list[list[Group]]], k: int, report: CohortReport
) -> tuple[pd.DataFrame, np.ndarray, tuple[int, ...]]:
    """Choose the recoding, suppress locally; the aggregated rows with their final keys."""
    keys = list(hier)
    gid = src.groupby([*keys, *SENSITIVE], sort=False).ngroup().to_numpy()
    _, first, count = np.unique(gid, return_index=True, return_counts=True)
    agg = src.iloc[first].reset_index(drop=True)
    source = agg[keys].to_numpy(dtype=np.int64)
    sensitive = agg[list(SENSITIVE)].to_numpy(dtype=np.int64)
    priority = sorted(range(len(keys)), key=lambda j: KEYS[keys[j]][1])
    Found = tuple[tuple[float, float, int], tuple[int, ...], np.ndarray, np.ndarray, np.ndarray]
    best: Found | None = None
    limit = MAX_TOUCHED * report.rows
    for node in product(*(range(len(hier[v]) + 1) for v in keys)):
        trial = np.column_stack(
            [
                _recode(source[:, j], hier[v][level] if level < len(hier[v]) else None)
                for j, (v, level) in enumerate(zip(keys, node, strict=True))
            ]
        )
        final, removed, cells = _suppress(trial, sensitive, count, k, priority)
        touched = int(cells.sum() + count[removed].sum())
        # Within the limit, the most information kept (the keys' entropies as recoded);
        # else the fewest rows touched.
        kept = sum(_entropy(trial[:, j], count) for j in range(len(keys)))
        score = (0, -kept, sum(node)) if touched <= limit else (1, touched, sum(node))
        if best is None or score < best[0]:
            best = (score, node, final, removed, cells)
    assert best is not None
    _, node, final, removed, cells = best
    for j, (var, level) in enumerate(zip(keys, node, strict=True)):
        levels = hier[var]
        report.levels[KEYS[var][0]] = ["as_asked", "coarser", "not_released"][
            level if level < len(levels) else 2
        ]
        if level >= len(levels):
            merged = source[:, j] != NOT_APPLICABLE
        else:
            codes = [c for _, group in levels[level] if len(group) > 1 for c in group]
            merged = np.isin(source[:, j], codes)
        report.recoded_cells += int(count[merged].sum())
    report.suppressed_cells = {KEYS[v][0]: int(cells[j]) for j, v in enumerate(keys)}
    report.removed_rows = int(count[removed].sum())
    kept_rows = ~removed
    klass = _classes(final[kept_rows])
    sizes = np.bincount(klass, weights=count[kept_rows]) if kept_rows.any() else np.zeros(0)
    report.classes, report.smallest_class = len(sizes), int(sizes.min()) if len(sizes) else 0
    report.published = report.rows - report.removed_rows
    result = pd.DataFrame(final, columns=keys)
    result["removed"] = removed
    return result, gid, node


def build(
    df: pd.DataFrame, forms: dict[str, Form], counts: list[CohortCounts], k: int
) -> Microdata:
    """The microdata of the dataset ``df`` (the current forms' wording labels it)."""
    codes = output_codes(forms)
    cohort = df["cohort"].astype(str).to_numpy()
    source = {v: _key_codes(df, v) for v in KEYS}
    sensitive = {s: _sensitive_codes(df, s, forms) for s in SENSITIVE}
    released = {KEYS[v][0]: np.full(len(df), NOT_APPLICABLE, dtype=np.int64) for v in KEYS}
    keep = np.ones(len(df), dtype=bool)
    report: dict[str, CohortReport] = {}
    for c in COHORTS:
        rows = np.flatnonzero(cohort == c)
        if len(rows) == 0:
            continue
        hier = {v: h for v in KEYS if (h := hierarchy(forms, c, v))}
        if not hier:
            raise DataError(f"{c} に属性の項目がありません。", f"{c} has no key variable.")
        src = pd.DataFrame(
            {**{v: source[v][rows] for v in hier}, **{s: sensitive[s][rows] for s in SENSITIVE}}
        )
        report[c] = CohortReport(len(rows))
        result, gid, node = _cohort(src, hier, k, report[c])
        keep[rows] = ~result["removed"].to_numpy()[gid]
        for (var, levels), level in zip(hier.items(), node, strict=True):
            column = KEYS[var][0]
            g = result[var].to_numpy()[gid]
            chosen = levels[level] if level < len(levels) else []
            lut = np.array([codes[column][label] for label, _ in chosen] or [0], dtype=np.int64)
            released[column][rows] = np.where(g >= 0, lut[np.clip(g, 0, len(lut) - 1)], g)
    out = pd.DataFrame({"cohort": pd.array(cohort, dtype="string")})
    for column, recoded in released.items():
        out[column] = recoded
    by_cohort = {c.cohort: c for c in counts}
    # The cohort's design weight and population only: the household-composition factor
    # of the guardian weights would reveal the household's make-up.
    out["weight"] = [by_cohort[c].weight if c in by_cohort else np.nan for c in cohort]
    out["fpc"] = [float(by_cohort[c].frame) if c in by_cohort else np.nan for c in cohort]
    left_out = dropped(forms)
    for name in df.columns:
        if name in left_out or name.endswith("_answered") or name in out.columns:
            continue
        series = df[name]
        if name in TOP_CODED:
            top = TOP_CODED[name]
            series = series.where(~(series > top).fillna(False), top)
        for old, new in MERGED.get(name, {}).items():
            series = series.where(series != old, new)
        # The nullable integers kept as they are: to_numpy() made a column with blanks
        # float, and its codes were written "5.0" (and slowly: a float field per value).
        out[name] = series.array
    out = out[keep].reset_index(drop=True)
    # Shuffled (CSPRNG), then by cohort: no order of the internal dataset survives.
    order = np.random.default_rng(secrets.randbits(128)).permutation(len(out))
    out = out.iloc[order]
    rank = {c: i for i, c in enumerate(COHORTS)}
    out = out.iloc[np.argsort(out["cohort"].map(rank).to_numpy(), kind="stable")]
    out = out.reset_index(drop=True)
    names, values = labels(forms, codes, list(out.columns))
    return Microdata(out, names, values, k, report)


def check(frame: pd.DataFrame, k: int, forms: dict[str, Form]) -> list[str]:
    """What breaks k-anonymity or l-diversity in a microdata frame (empty: nothing)."""
    keys = ["cohort", *(KEYS[v][0] for v in KEYS)]
    problems = []
    for key, rows in frame.groupby(keys, sort=False, dropna=False):
        if len(rows) < k:
            problems.append(f"{key}: {len(rows)} rows < {k}")
        for s in SENSITIVE:
            if s not in rows.columns:
                continue
            values = pd.to_numeric(rows[s], errors="coerce")
            if values.isna().all():
                continue
            valid = set(values[values >= 0]) - unknown(forms, s)
            if len(valid) < L_DIVERSITY:
                problems.append(f"{key}: {s} has {len(valid)} distinct values")
    return problems


def write(
    df: pd.DataFrame, forms: dict[str, Form], counts: list[CohortCounts], k: int, out: Path
) -> tuple[list[Path], dict[str, Any]]:
    """microdata.csv (UTF-8 with BOM), microdata.sav (labels, -9..-1 user-missing) and
    microdata.json (what was recoded and suppressed) of the dataset ``df``."""
    from survey.analysis import exports

    micro = build(df, forms, counts, k)
    csv, sav, report = out / "microdata.csv", out / "microdata.sav", out / "microdata.json"
    csv.write_bytes(exports.csv_bytes(micro.frame))
    exports.write_labelled_sav(micro.frame, micro.labels, micro.values, sav)
    summary = micro.summary()
    report.write_text(json.dumps(summary, ensure_ascii=False, indent=1))
    return [csv, sav, report], summary
