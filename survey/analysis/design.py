"""``Design``: a one-stage stratified sample and its design-based estimates (as R's survey).

Semantics follow R's ``svydesign(id = ~1, strata, weights, fpc)``: Taylor linearisation;
missing values are a domain left out (``na.rm = TRUE``), so their rows stay in the design;
domain estimates are computed over the full design, never by dropping rows; the df of a
domain is R's ``degf`` of the subset (its rows minus the strata they fall in).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from survey.analysis import intervals
from survey.analysis.kernels import (
    Bools,
    Calibration,
    Floats,
    Ints,
    Strata,
    bincount,
    domain_base,
    shares_variance,
    variance_grouped,
)
from survey.errors import DataError, UsageError

COLUMNS = ("estimate", "se", "ci_low", "ci_high", "df", "n", "unreliable")
Kind = Literal["mean", "total", "proportion"]
# R: a stratum counts as fully enumerated when its (N - n)/N is below 1e-7.
_ENUMERATED = 1e-7


def _column(df: pd.DataFrame, name: str, role: str) -> pd.Series[Any]:
    if name not in df.columns:
        raise UsageError(
            f"{role} の列 {name} がデータにありません。", f"The {role} column {name!r} is missing."
        )
    return df[name]


def _numbers(series: pd.Series[Any], role: str) -> Floats:
    values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(values).all():
        raise DataError(
            f"{role} に数値でない値または欠損があります。",
            f"The {role} column has missing or non-numeric values.",
        )
    return values


def is_categorical(series: pd.Series[Any]) -> bool:
    """Bool, text and pandas categories are categorical (R factors); other numbers are not."""
    return pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series)


def _factorize(series: pd.Series[Any]) -> tuple[Ints, pd.Index[Any]]:
    """Sorted factorisation; small-range integers (the questionnaires' codes) by offset,
    which is several times faster than hashing a million values."""
    if pd.api.types.is_integer_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.to_numpy()
        if len(values) and not series.isna().any():
            low, high = int(values.min()), int(values.max())
            if high - low < max(1024, len(values)):
                raw = (values - low).astype(np.int64)
                return raw, pd.Index(np.arange(low, high + 1, dtype=values.dtype))
    raw, uniques = pd.factorize(series, sort=True)
    return raw.astype(np.int64), pd.Index(uniques)


class Design:
    """A stratified one-stage sample (each row a PSU).

    ``Design(df, strata="cohort", weights="weight", fpc="N", missing=())``: ``fpc`` is the
    population size of the row's stratum; ``strata=None`` for an unstratified sample;
    weights default to N_h/n_h from ``fpc`` (as R derives them), else 1; ``missing`` are
    values that count as missing besides NaN (empty for outside data, where -1 or -9 may
    be real values).
    """

    def __init__(
        self,
        df: pd.DataFrame,
        strata: str | None = "cohort",
        weights: str | None = "weight",
        fpc: str | None = "N",
        missing: Iterable[Any] = (),
    ) -> None:
        if len(df) == 0:
            raise DataError("データに行がありません。", "The data have no rows.")
        self._df = df
        self._missing = tuple(missing)
        # Per column: its validity mask and factorisation, computed once (the data are read
        # on demand and must not change while the design is in use).
        self._cache: dict[tuple[str, str], Any] = {}
        if strata is None:
            codes = np.zeros(len(df), dtype=np.int64)
            labels: pd.Index[Any] = pd.Index([None])
        else:
            if not self.valid(strata).all():
                raise DataError("層の値に欠損があります。", "The strata column has missing values.")
            codes, labels = self.codes(strata)  # shared with by(strata)
        sizes = np.bincount(codes, minlength=len(labels)).astype(np.int64)
        population = None if fpc is None else self._population(fpc, codes, sizes)
        if weights is not None:
            w = _numbers(_column(df, weights, "weights"), "weights")
            if (w <= 0).any():
                raise DataError("重みは正の数です。", "Weights must be positive.")
        elif population is not None:
            w = (population / sizes)[codes]
        else:
            w = np.ones(len(df))
        self._w: Floats = w
        self._strata = Strata.build(codes, self._scale(sizes, population, labels))
        self._strata_labels = labels
        self._calibrations: tuple[Calibration, ...] = ()

    def _population(self, fpc: str, codes: Ints, sizes: Ints) -> Floats:
        """N_h per stratum from the fpc column (one value per stratum, at least n_h)."""
        values = _numbers(_column(self._df, fpc, "fpc"), "fpc")
        low = np.full(len(sizes), np.inf)
        high = np.full(len(sizes), -np.inf)
        np.minimum.at(low, codes, values)
        np.maximum.at(high, codes, values)
        if (low != high).any() or (low < sizes).any():
            raise DataError(
                "fpc は層ごとに一定の母集団の大きさ（標本数以上）です。",
                "fpc must be the stratum's population size: one value per stratum, >= n_h.",
            )
        return low

    def _scale(self, sizes: Ints, population: Floats | None, labels: pd.Index[Any]) -> Floats:
        # 1 - f_h, the share of the stratum not sampled (1 without fpc).
        keep = np.ones(len(sizes)) if population is None else (population - sizes) / population
        enumerated = keep < _ENUMERATED
        lonely = (sizes == 1) & ~enumerated
        if lonely.any():
            names = ", ".join(str(labels[int(i)]) for i in np.flatnonzero(lonely))
            raise DataError(
                f"標本が1件しかない層があり、分散を推定できません: {names}",
                f"A stratum with a single sampled row has no variance estimate: {names}",
            )
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(enumerated, 0.0, keep * sizes / (sizes - 1))
        return np.asarray(scale, dtype=np.float64)

    # --- derived designs -------------------------------------------------------------------

    def assign(self, **columns: Any) -> Design:
        """The same design (weights, calibrations) over the data with columns added."""
        out = self._with_weights(self._w, None)
        out._df = self._df.assign(**columns)
        out._cache = {}
        return out

    def _with_weights(self, weights: Floats, calibration: Calibration | None) -> Design:
        out = object.__new__(Design)
        out._df = self._df
        out._missing = self._missing
        out._w = weights
        out._strata = self._strata
        out._strata_labels = self._strata_labels
        extra = () if calibration is None else (calibration,)
        out._calibrations = (*self._calibrations, *extra)
        out._cache = self._cache
        return out

    def rake(self, margins: Mapping[str, pd.Series[Any]], stratum: Hashable = None) -> Design:
        """Rake to population margins (``{column: totals by category}``), in one stratum or
        in all; as R's ``calibrate(design, formula, population, calfun = "raking")``. Rows
        outside the stratum, or missing in a margin column, keep their weights."""
        from survey.analysis.rake import rake

        return rake(self, margins, stratum)

    # --- data access -------------------------------------------------------------------------

    @property
    def data(self) -> pd.DataFrame:
        return self._df

    @property
    def weights(self) -> pd.Series[float]:
        return pd.Series(self._w, index=self._df.index, name="weight")

    @property
    def df(self) -> int:
        """Design degrees of freedom: rows minus strata (R's ``degf``)."""
        return len(self._w) - self._strata.count

    def valid(self, name: str) -> Bools:
        """Rows where ``name`` holds a value (not NaN, not one of the missing values)."""
        key = ("valid", name)
        if key not in self._cache:
            series = _column(self._df, name, "variable")
            if pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series):
                values = series.to_numpy(dtype=np.float64, na_value=np.nan)
                mask = ~np.isnan(values)
                for code in self._missing:
                    if isinstance(code, int | float):
                        mask &= values != code
            else:
                mask = np.array(series.notna().to_numpy(), dtype=np.bool_)
                missing = self._missing
                if pd.api.types.is_string_dtype(series) and not isinstance(
                    series.dtype, pd.CategoricalDtype
                ):
                    missing = tuple(m for m in missing if isinstance(m, str))  # text is no code
                if missing:
                    mask &= ~series.isin(missing).to_numpy()
            self._cache[key] = mask
        return np.array(self._cache[key], dtype=np.bool_)  # a copy the caller may change

    def codes(self, name: str, keep_all: bool = False) -> tuple[Ints, pd.Index[Any]]:
        """Category codes of a column (-1 where missing) and its categories, sorted. Only the
        categories present are kept, except all of a pandas Categorical's with ``keep_all``
        (R's factor levels)."""
        key = ("codes" if keep_all else "present", name)
        if key not in self._cache:
            self._cache[key] = self._codes(name, keep_all)
        codes, categories = self._cache[key]
        return codes, categories

    def _codes(self, name: str, keep_all: bool) -> tuple[Ints, pd.Index[Any]]:
        series = _column(self._df, name, "variable")
        raw, uniques = _factorize(series)
        codes = np.where(self.valid(name), raw, -1).astype(np.int64)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        keep = counts > 0
        if keep_all and isinstance(series.dtype, pd.CategoricalDtype):
            keep = ~pd.Index(uniques).isin(self._missing)
        present = np.flatnonzero(keep)
        remap = np.full(len(uniques), -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        out = np.where(codes >= 0, remap[np.clip(codes, 0, None)], -1).astype(np.int64)
        return out, pd.Index(pd.Index(uniques)[present], name=name)

    def groups(self, columns: Sequence[str]) -> tuple[Ints, pd.Index[Any]]:
        """One code per row for the combination of ``columns`` (-1: a value missing), and
        the combinations present, in sorted order (the first column varies slowest)."""
        combined = np.zeros(len(self._w), dtype=np.int64)
        valid = np.ones(len(self._w), dtype=np.bool_)
        stride = 1
        parts: list[tuple[Ints, pd.Index[Any], int]] = []
        for name in reversed(columns):
            codes, uniques = self.codes(name)
            valid &= codes >= 0
            combined += np.clip(codes, 0, None) * stride
            parts.append((codes, uniques, stride))
            stride *= max(1, len(uniques))
        present = np.flatnonzero(np.bincount(combined[valid], minlength=stride))
        remap = np.full(stride, -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        groups = np.where(valid, remap[combined], -1).astype(np.int64)
        arrays = [uniques[(present // s) % max(1, len(uniques))] for _, uniques, s in parts]
        arrays.reverse()
        if len(columns) == 1:
            return groups, pd.Index(arrays[0], name=columns[0])
        return groups, pd.MultiIndex.from_arrays(arrays, names=list(columns))

    # --- estimates ---------------------------------------------------------------------------

    def mean(self, var: str) -> pd.DataFrame:
        return self._estimate(var, (), "mean")

    def total(self, var: str) -> pd.DataFrame:
        return self._estimate(var, (), "total")

    def proportion(self, var: str) -> pd.DataFrame:
        """Every category's share (0-1), with Korn-Graubard intervals on the design df."""
        return self._estimate(var, (), "proportion")

    def by(self, domain: str | Sequence[str]) -> Domains:
        columns = [domain] if isinstance(domain, str) else list(domain)
        if not columns:
            raise UsageError("領域の列を指定してください。", "Name at least one domain column.")
        return Domains(self, columns)

    def chisq(self, row: str, col: str) -> Any:
        """Rao-Scott second-order test of independence (R's ``svychisq`` default)."""
        from survey.analysis.chisq import rao_scott

        return rao_scott(self, row, col)

    def grouped(
        self, rows: Ints, groups: Ints, y: Floats, size: int, ratio: bool
    ) -> tuple[Floats, Floats]:
        """Estimates and variances of ``size`` domain totals (or ratio means) of ``y``."""
        return self._grouped(_Rows.of(self, rows, groups, size), y, ratio)

    def _grouped(self, r: _Rows, y: Floats, ratio: bool) -> tuple[Floats, Floats]:
        w, groups, size, weighted = r.w, r.groups, r.size, r.weighted
        total = bincount(groups, w * y, size)
        if ratio:
            with np.errstate(divide="ignore", invalid="ignore"):
                estimate = total / weighted
                z = w * (y - estimate[groups]) / weighted[groups]
        else:
            estimate, z = total, w * y
        var = variance_grouped(self._strata, self._calibrations, r.rows, r.h, groups, z, size)
        return estimate, var

    def _estimate(self, var: str, domain: Sequence[str], kind: Kind) -> pd.DataFrame:
        table = self._compute(var, domain, kind)
        # A domain without a single value of the variable has no estimate (R: NaN or an error).
        return table[table["n"] > 0] if domain else table

    def _compute(self, var: str, domain: Sequence[str], kind: Kind) -> pd.DataFrame:
        valid = self.valid(var)
        if domain:
            groups, index = self.groups(domain)
            valid &= groups >= 0
        else:
            groups, index = np.zeros(len(self._w), dtype=np.int64), pd.Index([var])
        size = len(index)
        rows = np.flatnonzero(valid)
        g = groups[rows]
        n, df, exact = self._base(rows, g, size)
        series = self._df[var]
        if kind != "proportion" and not is_categorical(series):
            y = series.to_numpy(dtype=np.float64, na_value=np.nan)[rows]
            est, v = self._grouped(_Rows.of(self, rows, g, size), y, ratio=kind == "mean")
            if not domain:
                index = pd.Index([var], name="variable")
            return _table(index, est, v, df, n, exact, proportion=False)
        codes, categories = self.codes(var, keep_all=True)
        prepared = _Rows.of(self, rows, g, size)
        est_all, var_all = self._categories(prepared, codes[rows], len(categories), kind)
        if domain:
            frame = index.to_frame(index=False)
            frame = frame.loc[frame.index.repeat(len(categories))].reset_index(drop=True)
            frame[var] = np.tile(np.asarray(categories, dtype=object), size)
            full: pd.Index[Any] = pd.MultiIndex.from_frame(frame)
        else:
            full = pd.Index(categories, name=var)
        k = len(categories)
        return _table(
            full,
            est_all,
            var_all,
            np.repeat(df, k),
            np.repeat(n, k),
            np.repeat(exact, k),
            proportion=kind == "proportion",
        )

    def _categories(self, r: _Rows, c: Ints, k: int, kind: Kind) -> tuple[Floats, Floats]:
        """Each category's estimate and variance, domain by domain (domain-major order)."""
        estimates, variances = [], []
        for j in range(k):
            est, v = self._grouped(r, (c == j).astype(np.float64), ratio=kind != "total")
            estimates.append(est)
            variances.append(v)
        est_all = np.column_stack(estimates).ravel() if estimates else np.empty(0)
        var_all = np.column_stack(variances).ravel() if variances else np.empty(0)
        return est_all, var_all

    def shares(self, codes: Ints, k: int, domain: Ints, rows: Ints | None = None) -> pd.DataFrame:
        """``by(domain).proportion(x)`` for integer codes given as arrays, not data columns:
        categories 0..k-1 (-1 missing) by domain codes >= 0 (-1 outside); indexed by
        (domain, category), domains without a value left out. Nothing is factorised or
        copied, so a table's many columns cost one pass each over their rows. With ``rows``
        the arrays are those rows' values only (e.g. one cohort's), positions in the design."""
        picked = np.flatnonzero((codes >= 0) & (domain >= 0))
        d = domain[picked].astype(np.int64)
        codes = codes[picked]
        rows = picked if rows is None else rows[picked]  # positions in the design
        present = np.flatnonzero(np.bincount(d)) if len(d) else np.zeros(0, dtype=np.int64)
        remap = np.full(int(present.max()) + 1 if len(present) else 0, -1, dtype=np.int64)
        remap[present] = np.arange(len(present))
        g, size = remap[d], len(present)
        n, df, exact = self._base(rows, g, size)
        if self._calibrations:
            est, var = self._categories(_Rows.of(self, rows, g, size), codes, k, "proportion")
        else:  # the same figures from sums per (domain, category, stratum): one pass
            h = self._strata.codes[rows]
            est, var = shares_variance(self._strata, h, g, codes, self._w[rows], size, k)
        index = pd.MultiIndex.from_arrays([np.repeat(present, k), np.tile(np.arange(k), size)])
        repeat = (np.repeat(df, k), np.repeat(n, k), np.repeat(exact, k))
        table = _table(index, est, var, *repeat, proportion=True)
        return table[table["n"] > 0]

    def _base(self, rows: Ints, groups: Ints, size: int) -> tuple[Ints, Ints, Bools]:
        n, df, present = domain_base(self._strata, rows, groups, size)
        exact = ~(present & (self._strata.scale > 0)).any(axis=1)
        return n, df, np.asarray(exact, dtype=np.bool_)


@dataclass(frozen=True, slots=True)
class _Rows:
    """The rows an estimate uses, with their group, weight and stratum, taken once."""

    rows: Ints
    groups: Ints
    size: int
    w: Floats
    h: Ints
    weighted: Floats  # the groups' sums of weights

    @classmethod
    def of(cls, design: Design, rows: Ints, groups: Ints, size: int) -> _Rows:
        w = design._w[rows]
        h = design._strata.codes[rows]
        return cls(rows, groups, size, w, h, bincount(groups, w, size))


class Domains:
    """Estimates by domain: ``design.by("sex").mean("k6")``, one row per domain present."""

    def __init__(self, design: Design, columns: list[str]) -> None:
        self._design = design
        self._columns = columns

    def mean(self, var: str) -> pd.DataFrame:
        return self._design._estimate(var, self._columns, "mean")

    def total(self, var: str) -> pd.DataFrame:
        return self._design._estimate(var, self._columns, "total")

    def proportion(self, var: str) -> pd.DataFrame:
        return self._design._estimate(var, self._columns, "proportion")


def _table(
    index: pd.Index[Any],
    estimate: Floats,
    var: Floats,
    df: Ints,
    n: Ints,
    exact: Bools,
    proportion: bool,
) -> pd.DataFrame:
    var = np.where(exact, 0.0, var)
    if proportion:  # rounding noise of an exactly-zero variance (order-dependent) is zero
        var = np.where(var <= 1e-12 * estimate * (1 - estimate), 0.0, var)
    se = np.sqrt(var)
    if proportion:
        low, high, _ = intervals.korn_graubard(estimate, var, n, df, exact)
        flag = intervals.unreliable_proportion(estimate, var, n, df, low, high)
    else:
        low, high = intervals.normal_ci(estimate, se)
        flag = intervals.unreliable_mean(estimate, se, n)
    return pd.DataFrame(
        {
            "estimate": estimate,
            "se": se,
            "ci_low": low,
            "ci_high": high,
            "df": df,
            "n": n,
            "unreliable": flag,
        },
        index=index,
    )
