"""Raking (calibration with the exponential distance), as R's ``calibrate(design, formula,
population, calfun = "raking")``, and the variance that accounts for it.

The raking factors g = exp(X lambda) solve sum_i w_i g_i x_i = T (Newton's method, as R's
``grake``); the solution is unique, so any convergent method gives R's weights. The
variance then uses the residuals of the influence values on X (R's greg_calibration).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from survey.analysis.kernels import Calibration, Floats
from survey.errors import DataError, UsageError

if TYPE_CHECKING:
    from survey.analysis.design import Design

MAX_ITERATIONS = 50
TOLERANCE = 1e-10  # relative, on every margin total (R's default epsilon is 1e-7)
CONSISTENCY = 1e-6  # margins must describe the same total (relative)


def _fail(ja: str, en: str) -> DataError:
    return DataError("レイキングできません: " + ja, "Cannot rake: " + en)


def rake(design: Design, margins: Mapping[str, pd.Series[Any]], stratum: Hashable) -> Design:
    if not margins:
        raise UsageError("周辺分布を指定してください。", "Give at least one margin.")
    inside = np.ones(len(design._w), dtype=np.bool_)
    if stratum is not None:
        labels = list(design._strata_labels)
        if stratum not in labels:
            raise UsageError(
                f"層 {stratum} はデザインにありません。",
                f"Stratum {stratum!r} is not in the design.",
            )
        inside &= design._strata.codes == labels.index(stratum)
    codes = {}
    for column in margins:
        c, categories = design.codes(column)
        inside &= c >= 0
        codes[column] = (c, categories)
    rows = np.flatnonzero(inside)
    if len(rows) == 0:
        raise _fail("対象の行がありません。", "no rows to rake.")
    columns: list[Floats] = []
    targets: list[float] = []
    totals: list[float] = []
    for position, (column, target) in enumerate(margins.items()):
        c, categories = codes[column]
        target = pd.Series(target, dtype="float64")
        sample = [str(x) for x in categories]
        wanted = {str(key): float(value) for key, value in target.items()}
        unknown = sorted(set(sample) - set(wanted))
        empty = sorted(k for k, v in wanted.items() if v > 0 and k not in sample)
        if unknown or empty:
            raise _fail(
                f"{column} の区分が標本と母集団で一致しません（{', '.join(unknown + empty)}）。",
                f"the categories of {column} differ between sample and population "
                f"({', '.join(unknown + empty)}).",
            )
        if any(wanted[k] <= 0 for k in sample) or any(v < 0 for v in wanted.values()):
            raise _fail(
                f"{column} に目標が0以下の区分があります。",
                f"a category of {column} has a target of zero or less.",
            )
        totals.append(sum(wanted.values()))
        # One margin with every category, the others less their first: a full-rank X with
        # the same column space as R's model matrix (intercept + treatment contrasts).
        for k in range(0 if position == 0 else 1, len(sample)):
            columns.append((c[rows] == k).astype(np.float64))
            targets.append(wanted[sample[k]])
    if max(totals) - min(totals) > CONSISTENCY * max(totals):
        raise _fail(
            "周辺分布の合計が一致しません。", "the margins do not add up to the same total."
        )
    X = np.column_stack(columns)
    T = np.asarray(targets)
    w0 = design._w[rows]
    g = _solve(X, w0, T)
    weights = design._w.copy()
    weights[rows] = w0 * g
    root = np.sqrt(w0)
    basis, _ = np.linalg.qr(X * root[:, None])
    return design._with_weights(weights, Calibration(rows, basis, g * root))


def _solve(X: Floats, w0: Floats, T: Floats) -> Floats:
    lam = np.zeros(X.shape[1])
    for _ in range(MAX_ITERATIONS):
        g = np.exp(X @ lam)
        wg = w0 * g
        gap = X.T @ wg - T
        if np.all(np.abs(gap) <= TOLERANCE * np.abs(T)):
            return g
        jacobian = X.T @ (X * wg[:, None])
        step, *_ = np.linalg.lstsq(jacobian, gap, rcond=None)
        lam -= step
        if not np.isfinite(lam).all():
            break
    raise _fail(
        "反復が収束しませんでした（目標と標本の区分を確かめてください）。",
        "the iterations did not converge (check the targets against the sample).",
    )
