"""Numeric kernels of the estimation engine: grouped sums and Taylor-linearised variances.

One-stage stratified sampling without replacement, each row its own PSU. For an estimator
whose influence (linearisation) values are z_i, the variance is R's ``svyrecvar``::

    V = sum_h (1 - n_h/N_h) * n_h/(n_h - 1) * sum_{i in h} (z_i - zbar_h)^2

where n_h counts every row of the stratum, also rows outside the domain (their z_i is zero):
that is what keeps domain estimates right (R pads a subset's PSUs with zeros the same way).
A calibrated design first replaces z by its residuals on the calibration variables
(R: ``qr.resid(qr, z / w) * w`` for each calibration, in the order they were made).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Calibration:
    """One calibration step: the rows it adjusted and what their residuals are taken on."""

    rows: Ints  # positions in the design
    basis: Floats  # orthonormal basis Q of the columns of X * sqrt(w0) on those rows
    scale: Floats  # g * sqrt(w0): R's ``w`` of the greg_calibration record


@dataclass(frozen=True, slots=True)
class Strata:
    codes: Ints  # stratum of each row, 0..H-1
    sizes: Ints  # n_h: rows of each stratum
    scale: Floats  # (1 - f_h) * n_h / (n_h - 1); 0 for a fully enumerated stratum

    @classmethod
    def build(cls, codes: Ints, scale: Floats) -> Strata:
        sizes = np.bincount(codes, minlength=len(scale)).astype(np.int64)
        return cls(codes, sizes, scale)

    @property
    def count(self) -> int:
        return len(self.sizes)


def bincount(codes: Ints, weights: Floats | None, size: int) -> Floats:
    if weights is None:
        return np.bincount(codes, minlength=size).astype(np.float64)
    return np.bincount(codes, weights=weights, minlength=size).astype(np.float64)


def variance_grouped(
    strata: Strata,
    calibrations: tuple[Calibration, ...],
    rows: Ints,
    h: Ints,
    groups: Ints,
    z: Floats,
    size: int,
) -> Floats:
    """Variance of ``size`` estimators at once: estimator g has influence ``z`` on the rows
    ``rows[groups == g]`` (whose strata are ``h``) and zero elsewhere (each row in at most
    one group)."""
    if not calibrations:
        H = strata.count
        code = groups * H + h
        s1 = bincount(code, z, size * H).reshape(size, H)
        s2 = bincount(code, z * z, size * H).reshape(size, H)
        within = s2 - s1 * s1 / strata.sizes
        return np.asarray(np.clip(within, 0.0, None) @ strata.scale, dtype=np.float64)
    # Calibrated: a group's residuals reach rows outside it, so each group gets a column of
    # its own (in chunks, to bound memory).
    out = np.empty(size)
    n = len(strata.codes)
    chunk = 16
    for first in range(0, size, chunk):
        last = min(size, first + chunk)
        mine = (groups >= first) & (groups < last)
        full = np.zeros((n, last - first))
        full[rows[mine], groups[mine] - first] = z[mine]
        out[first:last] = np.diag(vcov(strata, calibrations, full))
    return out


def project(calibrations: tuple[Calibration, ...], z: Floats) -> Floats:
    """Residuals of the influence columns on each calibration's variables (in place order)."""
    for cal in calibrations:
        part = z[cal.rows] / cal.scale[:, None]
        part -= cal.basis @ (cal.basis.T @ part)
        z[cal.rows] = part * cal.scale[:, None]
    return z


def vcov(strata: Strata, calibrations: tuple[Calibration, ...], z: Floats) -> Floats:
    """Covariance matrix of the estimators whose influence columns are ``z`` (n x k)."""
    z = project(calibrations, z)
    k = z.shape[1]
    out = np.zeros((k, k))
    # Rows whose influence is zero add nothing to a stratum's sums (n_h still counts them):
    # a domain's test then costs its own rows, not the whole design's.
    live = np.flatnonzero(z.any(axis=1))
    codes = strata.codes[live]
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=strata.count))])
    for h in range(strata.count):
        if strata.scale[h] == 0.0 or bounds[h] == bounds[h + 1]:
            continue
        part = z[live[order[bounds[h] : bounds[h + 1]]]]
        total = part.sum(axis=0)
        out += strata.scale[h] * (part.T @ part - np.outer(total, total) / strata.sizes[h])
    return out


def vcov_rows(
    strata: Strata, calibrations: tuple[Calibration, ...], rows: Ints, z: Floats
) -> Floats:
    """:func:`vcov` of influence columns nonzero only on ``rows`` (``z``: those rows' values,
    len(rows) x k): uncalibrated, the other rows are never materialised."""
    if calibrations:  # residuals reach other rows: the full matrix
        full = np.zeros((len(strata.codes), z.shape[1]))
        full[rows] = z
        return vcov(strata, calibrations, full)
    k = z.shape[1]
    out = np.zeros((k, k))
    codes = strata.codes[rows]
    for h in np.unique(codes):
        if strata.scale[h] == 0.0:
            continue
        part = z[codes == h]
        total = part.sum(axis=0)
        out += strata.scale[h] * (part.T @ part - np.outer(total, total) / strata.sizes[h])
    return out


def proportions_vcov(strata: Strata, h: Ints, cells: Ints, w: Floats, k: int) -> Floats:
    """:func:`vcov_rows` of the k cell shares p_c = W_c / W of a table (rows in cell
    ``cells`` 0..k-1, strata ``h``, weights ``w``), in closed form from sums per (cell,
    stratum): the influence on a row is w_i (e_{c_i} - p) / W, so per stratum
    sum z z' = diag(Q_h) - Q_h p' - p Q_h' + S_h p p' and sum z = T_h - W_h p (all / W),
    with T, Q the cells' sums of w and w^2 and W_h, S_h the stratum's. One pass over the
    rows instead of an n x k matrix (uncalibrated designs only)."""
    H = strata.count
    code = cells * H + h
    t = bincount(code, w, k * H).reshape(k, H)
    q = bincount(code, w * w, k * H).reshape(k, H)
    total = t.sum()
    p = t.sum(axis=1) / total
    qs = q @ strata.scale  # sum_h scale_h Q_h
    sigma = float(q.sum(axis=0) @ strata.scale)  # sum_h scale_h S_h
    s = t - np.outer(p, t.sum(axis=0))  # T_h - W_h p, k x H
    within = np.diag(qs) - np.outer(qs, p) - np.outer(p, qs) + sigma * np.outer(p, p)
    between = (s * (strata.scale / strata.sizes)) @ s.T
    return np.asarray((within - between) / total**2, dtype=np.float64)


def domain_base(strata: Strata, rows: Ints, groups: Ints, size: int) -> tuple[Ints, Ints, Bools]:
    """Per group: rows (the unweighted base n), design df (rows - strata present, as R's
    ``degf`` of the subset) and which strata it has rows in (size x H)."""
    H = strata.count
    counts = np.bincount(groups * H + strata.codes[rows], minlength=size * H).reshape(size, H)
    n = counts.sum(axis=1)
    present = counts > 0
    return n.astype(np.int64), (n - present.sum(axis=1)).astype(np.int64), present


def shares_variance(
    strata: Strata, h: Ints, groups: Ints, cats: Ints, w: Floats, size: int, k: int
) -> tuple[Floats, Floats]:
    """Shares of categories 0..k-1 in ``size`` domains and their variances, from weighted
    sums per (domain, category, stratum) in one pass: the closed form of
    :func:`variance_grouped` for the ratio W_gc / W_g, whose influence on a row of domain g
    is w_i (1[c_i = c] - p_gc) / W_g (uncalibrated designs only). Domain-major order."""
    H = strata.count
    code = (groups * k + cats) * H + h
    a = bincount(code, w, size * k * H).reshape(size, k, H)  # sum of w
    b = bincount(code, w * w, size * k * H).reshape(size, k, H)  # sum of w^2
    a_g, b_g = a.sum(axis=1), b.sum(axis=1)  # (size, H)
    weighted = a_g.sum(axis=1)  # W_g
    with np.errstate(divide="ignore", invalid="ignore"):
        p = a.sum(axis=2) / weighted[:, None]  # (size, k)
        s1 = (a - p[:, :, None] * a_g[:, None, :]) / weighted[:, None, None]
        q = p[:, :, None]
        s2 = (b * (1 - q) ** 2 + (b_g[:, None, :] - b) * q**2) / weighted[:, None, None] ** 2
        within = s2 - s1 * s1 / strata.sizes
    var = np.clip(within, 0.0, None) @ strata.scale
    return np.asarray(p.ravel(), dtype=np.float64), np.asarray(var.ravel(), dtype=np.float64)
