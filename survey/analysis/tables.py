"""Weighted tables: per item and cohort, cross-tabs, K6 and ideation summaries, pools.

Every cell carries its unweighted count ``n``, its weighted share (%) with the Korn-Graubard
95% interval from survey.analysis, and the conditions that define it (``where``), so the
disclosure control can audit all linked tables together. A cell's ``key`` names the figure:
the same figure in two tables (a frequency table is the total column of its cross-tabs, a
summary table repeats headline cells) has one key, and so one suppression status.

Pooling only as survey.analysis.study allows (POOLS, poolable_items): guardian cohorts never.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from survey.analysis.chisq import ChisqResult, rao_scott_rows
from survey.analysis.design import Design
from survey.analysis.study import POOLS, poolable_items
from survey.analysis.variables import (
    BREAKDOWN_VARS,
    BREAKDOWNS,
    OUTSIDE,
    Spec,
    analysis_columns,
    breakdown_column,
    families,
    specs,
)
from survey.cohorts import COHORT_LABELS
from survey.errors import DataError
from survey.forms.loader import Form

BASE_LABEL = "回答者数（基数）"
TOTAL_LABEL = "全体"
UNKNOWN_LABEL = "不詳"  # the column of those who gave no option of the breakdown
UNKNOWN_NOTE = "「不詳」は、区分の設問（性別・年齢・学年など）に回答しなかった人です。"
Where = tuple[tuple[str, tuple[int, ...]], ...]
BY_LABELS = {"sex": "性別", "age_band": "年齢", "grade": "学年", "child_stage": "子の年齢・学年"}


@dataclass(slots=True)
class Cell:
    key: Hashable
    n: int
    pct: float  # weighted %, 0-100 (NaN for the base row)
    low: float
    high: float
    where: Where  # the rows it counts: every (column, codes) condition holds
    base: bool  # the base row (the column's respondents)
    domain_n: int  # the column's base n
    sensitive: bool
    suppressed: bool = False
    primary: bool = False


@dataclass(slots=True)
class Table:
    id: str  # also the file stem
    title: str
    group: str  # a cohort or a pool
    variable: str
    by: str | None
    kind: str  # single / multi / summary
    rows: list[str]
    columns: list[str]
    cells: list[list[Cell | None]]
    family: str
    test: ChisqResult | None = None
    notes: list[str] = field(default_factory=list)

    def all_cells(self) -> Iterable[Cell]:
        return (c for row in self.cells for c in row if c is not None)

    @property
    def has_unknown(self) -> bool:
        """A cross-tab whose last column is 不詳 (those who gave no option of the breakdown)."""
        return self.by is not None and self.columns[-1] == UNKNOWN_LABEL


@dataclass(slots=True)
class Analysis:
    """All tables and the columns they were counted on (for the audit)."""

    tables: list[Table]
    frame: pd.DataFrame  # the analysis columns (one row per response) and ``cohort``
    families: dict[str, str]
    specs: dict[str, list[Spec]]
    forms: dict[str, Form] = field(default_factory=dict)  # the logic the attacker knows
    _positions: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def positions(self, cohort: int) -> np.ndarray:
        """The frame's row positions of one cohort (by its index), found once."""
        if cohort not in self._positions:
            self._positions[cohort] = np.flatnonzero(self.frame["cohort"].to_numpy() == cohort)
        return self._positions[cohort]

    def rows_of(self, cohort: int, columns: Iterable[str]) -> pd.DataFrame:
        """One cohort's rows of ``columns`` only: the linked sets read a few columns of a
        cohort hundreds of times, and a boolean row filter copies every column each time."""
        pos = self.positions(cohort)
        return pd.DataFrame({c: self.frame[c].to_numpy()[pos] for c in columns})


def group_label(group: str) -> str:
    return COHORT_LABELS.get(group, group)


Estimates = dict[tuple[int, int], tuple[float, float, float]]


def _estimate(
    design: Design, x: np.ndarray, k: int, domain: np.ndarray, rows: np.ndarray
) -> Estimates:
    """Shares (%) with their intervals of categories 0..k-1 of ``x`` in each domain code of
    ``domain`` (-1: none), by (domain code, category); the arrays hold the values of the
    design's ``rows`` (a cohort's or a pool's: every domain lies within them)."""
    codes = np.where(x >= 0, x, -1).astype(np.int64)
    result = design.shares(codes, k, np.where(domain >= 0, domain, -1), rows)
    # A category nobody chose anywhere has no estimate (as the design's factor levels).
    chosen = np.bincount(codes[codes >= 0], minlength=k) > 0
    g, c = (result.index.get_level_values(i).to_numpy() for i in (0, 1))
    values = zip(g, c, result["estimate"], result["ci_low"], result["ci_high"], strict=True)
    return {
        (int(a), int(b)): (100 * e, 100 * lo, 100 * hi) for a, b, e, lo, hi in values if chosen[b]
    }


def _counts(x: np.ndarray, k: int, domain: np.ndarray, size: int) -> np.ndarray:
    """Unweighted counts of categories 0..k-1 of ``x`` by domain code 0..size-1 (size x k)."""
    ok = (x >= 0) & (domain >= 0)
    code = domain[ok].astype(np.int64) * k + x[ok].astype(np.int64)
    return np.bincount(code, minlength=size * k).reshape(size, k)


def _shifted(est: Estimates, start: int, size: int) -> Estimates:
    """The estimates of domains start..start+size-1, numbered from 0 again."""
    return {(g - start, c): v for (g, c), v in est.items() if start <= g < start + size}


def _column_cells(
    design: Design,
    spec: Spec,
    cols: dict[str, np.ndarray],
    domain: np.ndarray,
    codes: list[int],
    key: tuple[Any, ...],
    prefix: str,
    dom_var: str | None,
    unknown: int | None = None,
) -> dict[int, list[Cell]]:
    """The cells (rows, then base) of every domain code in ``codes``; the ``unknown`` code's
    cells have the condition OUTSIDE on ``dom_var`` (no option given)."""
    # Only the rows in a domain or in the base (where a category counts as chosen): a
    # cohort's work costs its own rows, not the whole design's.
    first = cols[spec.id] if spec.kind == "single" else cols[f"{spec.id}#0"]
    rows = np.flatnonzero((domain >= 0) | (first >= 0))
    domain = domain[rows].astype(np.int64, copy=False)  # codes times options overflow int8
    cols = {name: values[rows] for name, values in cols.items()}
    k = len(spec.rows)
    size = max([*codes, int(domain.max()) if len(domain) else 0]) + 1
    # Per row: its column, the category it counts, its estimates and counts by domain.
    per_row: list[tuple[str, int, Estimates, np.ndarray]] = []
    if spec.kind == "single":
        x = cols[spec.id]
        est, counts = _estimate(design, x, k, domain, rows), _counts(x, k, domain, size)
        per_row = [(spec.id, r, est, counts[:, r]) for r in range(k)]
        base_column, base_codes = spec.id, tuple(range(k))
        base_n = counts.sum(axis=1)
    else:
        # Every option in one pass: option r's domains are numbered r * size + code, each
        # respondent once in each option's domain (a domain's estimate and variance use
        # only its own rows, and the strata sizes come from the design, not these rows).
        picks = [cols[f"{spec.id}#{r}"] for r in range(k)]
        x, stacked = (
            np.concatenate(picks),
            np.concatenate([np.where(domain >= 0, domain + r * size, -1) for r in range(k)]),
        )
        est = _estimate(design, x, 2, stacked, np.tile(rows, k))
        counts = _counts(x, 2, stacked, size * k)[:, 1].reshape(k, size)
        for r in range(k):
            # An option nobody chose has no estimate (as a factor level nobody has).
            own = _shifted(est, r * size, size) if (picks[r] == 1).any() else {}
            per_row.append((f"{spec.id}#{r}", 1, own, counts[r]))
        base_column, base_codes = f"{spec.id}#0", (0, 1)
        base_n = _counts(picks[0], 2, domain, size).sum(axis=1)
    nan = float("nan")
    out: dict[int, list[Cell]] = {}
    for code in codes:
        n_base = int(base_n[code])
        dw: Where = ((dom_var, (OUTSIDE if code == unknown else code,)),) if dom_var else ()
        cells = []
        for r, (column, category, est, n) in enumerate(per_row):
            pct, low, high = est.get((code, category), (nan, nan, nan))
            cells.append(
                Cell(
                    (*key, code, r),
                    int(n[code]),
                    float(pct),
                    float(low),
                    float(high),
                    (*dw, (f"{prefix}:{column}", (category,))),
                    False,
                    n_base,
                    spec.sensitive,
                )
            )
        base_where: Where = (*dw, (f"{prefix}:{base_column}", base_codes))
        cells.append(
            Cell((*key, code, "base"), n_base, nan, nan, nan, base_where, True, n_base, False)
        )
        out[code] = cells
    return out


def _with_unknown(
    by: np.ndarray, inside: np.ndarray, labels: list[tuple[int, str]]
) -> tuple[np.ndarray, list[int], int | None]:
    """A breakdown's domain codes with a 不詳 column for the cohort's respondents who gave no
    option (無回答, 答えたくない), if there are any. Left out, their cells would still be
    published implicitly: the 全体 column minus the published columns (an implicit domain).
    As a column of its own they are cells like any other, under the same primary and
    complementary suppression and audit. Its cells' conditions say OUTSIDE on the breakdown
    (the code the linked model gives those without an option)."""
    codes = [c for c, _ in labels]
    unknown = inside & (by == OUTSIDE)
    if not unknown.any():
        return by, codes, None
    code = max(codes) + 1
    return np.where(unknown, code, by), [*codes, code], code


def _labels(forms: dict[str, Form], cohort: str, var: str) -> list[tuple[int, str]]:
    form = forms[cohort]
    for v in form.variables():
        if v.id == var:
            return [(o.code, o.label.ja) for o in v.options]
    return []


def _table(
    spec: Spec, group: str, by: str | None, columns: list[str], col_cells: list[list[Cell]]
) -> Table:
    rows = [label for label, _ in spec.rows] + [BASE_LABEL]
    cells: list[list[Cell | None]] = [
        [col_cells[j][i] for j in range(len(columns))] for i in range(len(rows))
    ]
    suffix = f"__by_{by}" if by else ""
    title = f"{spec.label}（{group_label(group)}）" + (f"×{BY_LABELS.get(by, by)}" if by else "")
    return Table(
        f"{group}__{spec.id}{suffix}",
        title,
        group,
        spec.id,
        by,
        spec.kind,
        rows,
        columns,
        cells,
        spec.id,
    )


def build(df: pd.DataFrame, design: Design, forms: dict[str, Form]) -> Analysis:
    """Every table of every cohort present (and of each pool whose cohorts all answered)."""
    if len(df) != len(design.data):
        raise DataError("データと設計の行数が違います。", "Data and design rows differ.")
    all_specs = specs(forms)
    fam = families(all_specs, forms)
    cohort_index = {c: i for i, c in enumerate(COHORT_LABELS)}
    frame: dict[str, np.ndarray] = {
        "cohort": df["cohort"].astype(str).map(cohort_index).to_numpy(dtype=np.int64)
    }
    present = set(df["cohort"].astype(str).unique())
    tables: list[Table] = []
    by_cohort: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    for cohort, cohort_specs in all_specs.items():
        if cohort not in present:
            continue
        inside = (df["cohort"] == cohort).to_numpy()
        cohort_dom = np.where(inside, 0, -1)
        bcols = {}
        for b in BREAKDOWNS[cohort]:
            codes = [c for c, _ in _labels(forms, cohort, b)]
            bcols[b] = breakdown_column(df, b, cohort, codes)
            frame[f"by:{cohort}:{b}"] = bcols[b]
        by_cohort[cohort] = {}
        for spec in cohort_specs:
            if spec.id not in df.columns:
                continue  # not in this dataset: no table
            cols = analysis_columns(df, spec, inside)
            by_cohort[cohort][spec.id] = cols
            for name, values in cols.items():
                frame[f"{cohort}:{name}"] = values
            key = (cohort, spec.id)
            total = _column_cells(design, spec, cols, cohort_dom, [0], (*key, None), cohort, None)[
                0
            ]
            tables.append(_table(spec, cohort, None, [group_label(cohort)], [total]))
            for b in BREAKDOWNS[cohort]:
                if spec.id == b or spec.id in BREAKDOWN_VARS:
                    continue
                labels = _labels(forms, cohort, b)
                domain, codes, unknown = _with_unknown(bcols[b], inside, labels)
                column = f"by:{cohort}:{b}"
                dom_cells = _column_cells(
                    design, spec, cols, domain, codes, (*key, b), cohort, column, unknown
                )
                names = [lab for _, lab in labels] + [UNKNOWN_LABEL] * (unknown is not None)
                cols_cells = [total] + [dom_cells[c] for c in codes]
                t = _table(spec, cohort, b, [TOTAL_LABEL, *names], cols_cells)
                t.test = _test(design, spec, cols, bcols[b])
                tables.append(t)
    tables += _pooled(df, design, forms, all_specs, by_cohort, present, frame)
    for t in tables:
        t.family = fam.get(t.variable, t.variable)
    out = pd.DataFrame(frame)
    tables += summaries(tables)
    return Analysis(tables, out, fam, all_specs, forms)


def _pooled(
    df: pd.DataFrame,
    design: Design,
    forms: dict[str, Form],
    all_specs: dict[str, list[Spec]],
    by_cohort: dict[str, dict[str, dict[str, np.ndarray]]],
    present: set[str],
    frame: dict[str, np.ndarray],
) -> list[Table]:
    out = []
    for pool, members in POOLS.items():
        if not set(members) <= present:
            continue  # a pool of one answering cohort would repeat its table
        poolable = set(poolable_items(pool, forms))
        first = {s.id: s for s in all_specs[members[0]]}
        inside = df["cohort"].isin(list(members)).to_numpy()
        dom = np.where(inside, 0, -1)
        for var, spec in first.items():
            if var not in poolable or var in BREAKDOWN_VARS or var not in df.columns:
                continue
            cols: dict[str, np.ndarray] = {}
            for cohort in members:
                for name, values in by_cohort[cohort][var].items():
                    cols[name] = np.where(values != OUTSIDE, values, cols.get(name, values))
            for name, values in cols.items():
                frame[f"{pool}:{name}"] = values
            cells = _column_cells(design, spec, cols, dom, [0], (pool, var, None), pool, None)
            out.append(_table(spec, pool, None, [pool], [cells[0]]))
    return out


def _test(
    design: Design, spec: Spec, cols: dict[str, np.ndarray], b: np.ndarray
) -> ChisqResult | None:
    """Rao-Scott test over the options (not the missing rows) and the breakdown's options."""
    if spec.kind != "single":
        return None
    options = sum(1 for _, codes in spec.rows if codes[0] >= 0 and codes[0] not in (-7,))
    x = cols[spec.id]
    valid_x, valid_b = (x >= 0) & (x < options), b >= 0
    rows = np.flatnonzero(valid_x & valid_b)
    xr, br = x[rows].astype(np.int64), b[rows].astype(np.int64)
    if (np.bincount(xr) > 0).sum() < 2 or (np.bincount(br) > 0).sum() < 2:
        return None
    # Categories as the design would number a column's: those present where it has a value
    # (also outside the table), in sorted order.
    px = np.flatnonzero(np.bincount(x[valid_x].astype(np.int64)))
    pb = np.flatnonzero(np.bincount(b[valid_b].astype(np.int64)))
    r, c = np.searchsorted(px, xr), np.searchsorted(pb, br)
    try:
        return rao_scott_rows(design, rows, r, c, len(px), len(pb))
    except (DataError, np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError):
        return None


def summaries(tables: list[Table]) -> list[Table]:
    """K6 headlines and ideation by group: the same cells (keys) as the variables' tables,
    so they share their suppression."""
    freq = {(t.group, t.variable): t for t in tables if t.by is None}
    out = []
    for tid, title, variables, labels in (
        (
            "summary__k6_headlines",
            "K6 10点以上・13点以上の割合",
            ("k6_10plus", "k6_13plus"),
            ["10点以上", "13点以上"],
        ),
        (
            "summary__ideation",
            "自殺念慮（生涯・過去1年）",
            ("ideation_ever_yes", "ideation_past_year"),
            ["生涯", "過去1年"],
        ),
    ):
        groups = sorted({g for g, v in freq if v == variables[0]}, key=_group_order)
        if not groups:
            continue
        cells: list[list[Cell | None]] = []
        for g in groups:
            row: list[Cell | None] = []
            for v in variables:
                t = freq.get((g, v))
                row.append(t.cells[0][0] if t is not None else None)  # row 0: 該当 / あり
            cells.append(row)
        rows = [group_label(g) for g in groups]
        out.append(
            Table(
                tid, title, "all", variables[0], None, "summary", rows, labels, cells, variables[0]
            )
        )
    return out


def _group_order(group: str) -> int:
    order = [*COHORT_LABELS, *POOLS]
    return order.index(group) if group in order else len(order)
