"""Rao-Scott second-order test of independence in a two-way table (R's ``svychisq``,
``statistic = "F"``, its default)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from survey.analysis.kernels import Ints, proportions_vcov, vcov_rows
from survey.errors import DataError

if TYPE_CHECKING:
    from survey.analysis.design import Design


@dataclass(frozen=True, slots=True)
class ChisqResult:
    statistic: float  # F = X^2 / trace(Delta)
    ndf: float  # d0 = trace(Delta)^2 / trace(Delta^2)
    ddf: float  # d0 * design df
    p_value: float
    pearson: float  # Pearson's X^2 of the weighted table scaled to n rows


def rao_scott(design: Design, row: str, col: str) -> ChisqResult:
    r, _ = design.codes(row)
    c, _ = design.codes(col)
    return rao_scott_codes(design, r, c)


def rao_scott_codes(design: Design, r: Ints, c: Ints) -> ChisqResult:
    """:func:`rao_scott` of two code arrays over the design's rows (categories 0.., each
    present somewhere; -1 missing)."""
    rows = np.flatnonzero((r >= 0) & (c >= 0))
    return rao_scott_rows(design, rows, r[rows], c[rows], int(r.max()) + 1, int(c.max()) + 1)


def rao_scott_rows(design: Design, rows: Ints, r: Ints, c: Ints, nr: int, nc: int) -> ChisqResult:
    """:func:`rao_scott` from the rows in the table (positions in the design) and their
    codes 0..nr-1 and 0..nc-1: the tables' tests give them without building, factorising
    or scanning million-row columns."""
    if nr < 2 or nc < 2:
        raise DataError(
            "検定には2つ以上の区分が各変数に必要です。",
            "The test needs at least two categories in each variable.",
        )
    cell = r + nr * c  # rows vary fastest, as R's interaction() and expand.grid
    k = nr * nc
    w = design._w[rows]
    total = w.sum()
    p = np.bincount(cell, weights=w, minlength=k) / total
    n = len(design._w)  # R: N is every row of the design, missing ones too
    if design._calibrations:  # residuals reach other rows: the influence matrix itself
        z = np.tile(-p, (len(rows), 1))  # the influence on the table's rows (0 elsewhere)
        z[np.arange(len(rows)), cell] += 1.0
        z *= (w / total)[:, None]
        V = vcov_rows(design._strata, design._calibrations, rows, z)
    else:
        V = proportions_vcov(design._strata, design._strata.codes[rows], cell, w, k)
    # Pearson's X^2 on the weighted table scaled to N rows.
    table = (p * n).reshape(nc, nr).T
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        pearson = float(np.sum((table - expected) ** 2 / expected))
    # Contrasts of the interaction, orthogonal to the main effects (R: qr.resid(X1, X12)).
    ri = np.arange(k) % nr
    ci = np.arange(k) // nr
    main = np.column_stack(
        [np.ones(k)]
        + [(ri == i).astype(float) for i in range(1, nr)]
        + [(ci == j).astype(float) for j in range(1, nc)]
    )
    inter = np.column_stack(
        [((ri == i) & (ci == j)).astype(float) for j in range(1, nc) for i in range(1, nr)]
    )
    coef, *_ = np.linalg.lstsq(main, inter, rcond=None)
    C = inter - main @ coef
    inv = np.where(p == 0, 0.0, 1 / np.where(p == 0, 1.0, p))
    denom = C.T @ (inv[:, None] / n * C)
    numer = C.T @ (inv[:, None] * V * inv[None, :]) @ C
    delta = np.linalg.solve(denom, numer)
    trace = float(np.trace(delta))
    d0 = trace**2 / float(np.trace(delta @ delta))
    nu = design.df
    statistic = pearson / trace
    return ChisqResult(statistic, d0, d0 * nu, float(stats.f.sf(statistic, d0, d0 * nu)), pearson)
