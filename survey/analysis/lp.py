"""The attacker's LP over one linked set: bounds of a figure from the published figures and
the structural constraints (survey.analysis.linked). Two solvers that must agree: scipy's
``linprog`` (the audit) and one warm HiGHS model per set (highspy, for protection); and the
protection LP that chooses complementary suppressions (:class:`Perturb`)."""

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


def _highs(
    a: sparse.spmatrix,
    cost: np.ndarray,
    col_lo: np.ndarray,
    col_hi: np.ndarray,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
) -> Any:
    import highspy

    a = sparse.csc_matrix(a)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, col_lo, col_hi
    lp.row_lower_, lp.row_upper_ = row_lo, row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    h = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.passModel(lp)
    return h


def _optimal(h: Any) -> bool:
    return bool(h.getModelStatus() == h.getModelStatus().__class__.kOptimal)


class Solver:
    """The same LP on one HiGHS model kept between solves (highspy): every figure is a row,
    free while suppressed and fixed at its value while published, so a new suppression only
    changes row bounds and each solve starts warm from the last basis. ``fixed_only``: as if
    only the fixed figures were published."""

    def __init__(self, linked: Linked, fixed_only: bool = False) -> None:
        self.linked, self.fixed_only = linked, fixed_only
        self.solves = 0
        self._state: np.ndarray | None = None
        self._h: Any = None
        self._b = linked.a @ linked.truth

    def _sync(self) -> list[int]:
        published = self.linked.published(self.fixed_only)
        state = np.zeros(len(self.linked.figures), dtype=bool)
        state[published] = True
        inf = np.inf
        if self._h is None:
            linked = self.linked
            n_eq, n_ub = linked.eq.shape[0], linked.ub.shape[0]
            a = sparse.vstack([linked.a, linked.eq, linked.ub])
            lo = np.concatenate(
                [np.where(state, self._b, -inf), np.zeros(n_eq), np.full(n_ub, -inf)]
            )
            hi = np.concatenate([np.where(state, self._b, inf), np.zeros(n_eq + n_ub)])
            n = a.shape[1]
            self._h = _highs(a, np.zeros(n), np.zeros(n), np.full(n, inf), lo, hi)
            # Primal simplex: a new objective or a relaxed row keeps the last basis primal
            # feasible, so each solve is a few pivots (dual simplex restarts: ~10x slower).
            self._h.setOptionValue("simplex_strategy", 4)
        elif self._state is not None and (changed := np.flatnonzero(state != self._state)).size:
            lo = np.where(state[changed], self._b[changed], -inf)
            hi = np.where(state[changed], self._b[changed], inf)
            self._h.changeRowsBounds(len(changed), changed.astype(np.int32), lo, hi)
        self._state = state
        return published

    def _bound(self, i: int, sign: float) -> float | None:
        h = self._h
        c = self.linked.a[i].toarray().ravel()
        h.changeColsCost(len(c), np.arange(len(c), dtype=np.int32), -sign * c)
        h.run()
        self.solves += 1
        return sign * -h.getInfo().objective_function_value if _optimal(h) else None

    def interval(self, i: int) -> tuple[float, float]:
        published = self._sync()
        high, low = self._bound(i, 1.0), self._bound(i, -1.0)
        if high is None or low is None:
            return interval(self.linked, i, published)  # fall back to linprog
        return low, high

    def wide(self, i: int, width: float) -> bool:
        """Whether figure i's interval is at least ``width`` wide; one solve when its upper
        bound alone is that far above the true value (the lower bound is below it)."""
        self._sync()
        value = float(self._b[i])
        high = self._bound(i, 1.0)
        if high is not None and high - value >= width:
            return True
        low, high = self.interval(i)
        return high - low >= width


class Perturb:
    """The cheapest way to move a suppressed figure: the LP relaxation of Fischetti and
    Salazar's model of complementary suppression (as tau-Argus' and sdcTable's optimal
    methods solve it, one sensitive cell at a time).

    Unknowns z >= 0 under the structural constraints, and per figure j a deviation
    d_j = a_j z - value_j split as p_j - m_j (p, m >= 0). A published fixed figure cannot
    deviate; a suppressed figure deviates at no cost; a published cell costs ``cost_j`` per
    unit. Asking figure i to reach a target, the optimal z is a table consistent with all the
    figures that did not deviate: suppressing the figures that did makes the target a value
    the attacker cannot exclude. The weighted L1 cost stands for the fixed cost of each
    suppression (the relaxation); a vertex solution moves few figures."""

    TOL = 1e-6  # a deviation under this is solver noise, not a figure that must be hidden

    def __init__(self, linked: Linked) -> None:
        self.linked = linked
        self.solves = 0
        figs = linked.figures
        k, n = len(figs), linked.a.shape[1]
        self._b = linked.a @ linked.truth
        eye = sparse.identity(k, format="csr")
        n_eq, n_ub = linked.eq.shape[0], linked.ub.shape[0]
        a = sparse.vstack(
            [
                sparse.hstack([linked.a, -eye, eye]),
                sparse.hstack([linked.eq, sparse.csr_matrix((n_eq, 2 * k))]),
                sparse.hstack([linked.ub, sparse.csr_matrix((n_ub, 2 * k))]),
            ]
        )
        inf = np.inf
        self._n, self._k = n, k
        lo = np.concatenate([self._b, np.zeros(n_eq), np.full(n_ub, -inf)])
        hi = np.concatenate([self._b, np.zeros(n_eq + n_ub)])
        col_hi = np.full(n + 2 * k, inf)
        self._h = _highs(a, np.zeros(n + 2 * k), np.zeros(n + 2 * k), col_hi, lo, hi)
        self._sync()

    def _sync(self) -> None:
        figs, n, k = self.linked.figures, self._n, self._k
        cost = np.array([0.0 if f.suppressed or f.fixed else f.cost for f in figs])
        upper = np.array([0.0 if f.fixed and not f.suppressed else np.inf for f in figs])
        cols = np.arange(n, n + 2 * k, dtype=np.int32)
        self._h.changeColsCost(2 * k, cols, np.concatenate([cost, cost]))
        self._h.changeColsBounds(2 * k, cols, np.zeros(2 * k), np.concatenate([upper, upper]))

    def move(self, i: int, target: float) -> list[int] | None:
        """The published figures that must deviate for figure i to reach ``target`` (the
        cheapest such set by the LP), or None when no table consistent with the fixed
        figures and the form's logic gives i that value."""
        self._sync()
        n, k, h = self._n, self._k, self._h
        delta = target - self._b[i]
        up, down = n + i, n + k + i
        if delta >= 0:
            h.changeColBounds(up, delta, np.inf)
            h.changeColBounds(down, 0.0, 0.0)
        else:
            h.changeColBounds(up, 0.0, 0.0)
            h.changeColBounds(down, -delta, np.inf)
        h.run()
        self.solves += 1
        ok = _optimal(h)
        x = np.asarray(h.getSolution().col_value) if ok else None
        h.changeColBounds(up, 0.0, np.inf)
        h.changeColBounds(down, 0.0, np.inf)
        if x is None:
            return None
        dev = x[n : n + k] + x[n + k :]
        figs = self.linked.figures
        return [int(j) for j in np.flatnonzero(dev > self.TOL) if not figs[j].suppressed and j != i]
