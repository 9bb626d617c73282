"""The attacker's LP over one linked set: bounds of a figure from the published figures and
the structural constraints (survey.analysis.linked). Two solvers that must agree: scipy's
``linprog`` (the audit) and one warm HiGHS model per set (highspy, for protection)."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from survey.analysis.linked import Linked


def interval(linked: Linked, i: int, published: list[int] | None = None) -> tuple[float, float]:
    """The attacker's bounds on figure ``i`` (scipy linprog, HiGHS)."""
    published = linked.published() if published is None else published
    pub = linked.a[published]
    a_eq = sparse.vstack([pub, linked.eq]).tocsr()
    b_eq = np.concatenate([pub @ linked.truth, np.zeros(linked.eq.shape[0])])
    has_ub = linked.ub.shape[0] > 0
    c = linked.a[i].toarray().ravel()
    bounds = []
    for sign in (1.0, -1.0):
        res = linprog(  # type: ignore[call-overload]  # (scipy-stubs: sparse A is accepted)
            sign * c,
            A_eq=a_eq if a_eq.shape[0] else None,
            b_eq=b_eq if a_eq.shape[0] else None,
            A_ub=linked.ub if has_ub else None,
            b_ub=np.zeros(linked.ub.shape[0]) if has_ub else None,
            bounds=(0, None),
            method="highs",
        )
        if res.status != 0:  # cannot happen: the true counts are feasible
            raise RuntimeError(f"disclosure audit LP failed: {res.message}")
        bounds.append(sign * res.fun)
    return bounds[0], bounds[1]


class Solver:
    """The same LP on one HiGHS model kept between solves (highspy): only the objective
    changes from one figure to the next, so each solve starts warm. Rebuilt when the
    published figures change. ``fixed_only``: as if only the fixed figures were published."""

    def __init__(self, linked: Linked, fixed_only: bool = False) -> None:
        self.linked, self.fixed_only = linked, fixed_only
        self.solves = 0
        self._state: tuple[int, ...] | None = None
        self._h: Any = None

    def _build(self, published: list[int]) -> None:
        import highspy

        linked = self.linked
        pub = linked.a[published]
        a = sparse.vstack([pub, linked.eq, linked.ub]).tocsc()
        b = pub @ linked.truth
        inf = highspy.kHighsInf
        n_eq, n_ub = linked.eq.shape[0], linked.ub.shape[0]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
        lp.col_cost_ = np.zeros(a.shape[1])
        lp.col_lower_ = np.zeros(a.shape[1])
        lp.col_upper_ = np.full(a.shape[1], inf)
        lp.row_lower_ = np.concatenate([b, np.zeros(n_eq), np.full(n_ub, -inf)])
        lp.row_upper_ = np.concatenate([b, np.zeros(n_eq + n_ub)])
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        h = highspy.Highs()  # type: ignore[no-untyped-call]
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
        self._h = h

    def interval(self, i: int) -> tuple[float, float]:
        published = self.linked.published(self.fixed_only)
        state = tuple(published)
        if state != self._state:
            self._build(published)
            self._state = state
        h = self._h
        c = self.linked.a[i].toarray().ravel()
        n = len(c)
        out = []
        for sign in (1.0, -1.0):
            h.changeColsCost(n, np.arange(n, dtype=np.int32), sign * c)
            h.run()
            self.solves += 1
            if h.getModelStatus() != h.getModelStatus().__class__.kOptimal:
                return interval(self.linked, i, published)  # fall back to linprog
            out.append(sign * h.getInfo().objective_function_value)
        return out[0], out[1]
