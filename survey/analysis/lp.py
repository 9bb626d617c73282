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
        if res.status == 3:  # unbounded: nothing caps the figure (the widest interval)
            bounds.append(-sign * np.inf)
            continue
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
    """The cheapest suppressions that protect one figure: the LP relaxation of Fischetti and
    Salazar's model of complementary suppression (the optimal method of tau-Argus and
    sdcTable), for one sensitive figure at a time as their heuristics solve it.

    Two tables z+ and z- (unknowns >= 0 under the structural constraints) whose figure i
    differs by the required width; per figure j and table, a deviation from the published
    value split as p - m (p, m >= 0), and x_j at least each table's |deviation| (the
    relaxation of "j suppressed"). A published fixed figure cannot deviate; a suppressed one
    deviates free; a published cell costs ``cost_j`` per unit of x_j. The figures with
    x_j > 0 are those that must be hidden for both tables to be consistent with what stays
    published: suppressing them puts z+ and z- in the attacker's feasible set, so figure i's
    interval is at least the width apart (the split between raising the upper bound and
    lowering the lower one is the LP's choice)."""

    TOL = 1e-6  # a deviation under this is solver noise, not a figure that must be hidden

    def __init__(self, linked: Linked) -> None:
        self.linked = linked
        self.solves = 0
        k, n = len(linked.figures), linked.a.shape[1]
        self._b = linked.a @ linked.truth
        e = sparse.identity(k, format="csr")
        z = sparse.csr_matrix
        n_eq, n_ub = linked.eq.shape[0], linked.ub.shape[0]
        # columns: z+ (n), z- (n), p+, m+, p-, m-, x (k each); the last row: the target.
        blocks: list[list[Any]] = [
            [linked.a, None, -e, e, None, None, None],
            [None, linked.a, None, None, -e, e, None],
            [linked.eq, None, None, None, None, None, None],
            [None, linked.eq, None, None, None, None, None],
            [linked.ub, None, None, None, None, None, None],
            [None, linked.ub, None, None, None, None, None],
            [None, None, -e, -e, None, None, e],
            [None, None, None, None, -e, -e, e],
            [z((1, n)), z((1, n)), z((1, k)), z((1, k)), z((1, k)), z((1, k)), z((1, k))],
        ]
        a = sparse.bmat(blocks, format="csc")
        inf = np.inf
        self._n, self._k, self._row = n, k, a.shape[0] - 1
        lo = np.concatenate(
            [self._b, self._b, np.zeros(2 * n_eq), np.full(2 * n_ub, -inf), np.zeros(2 * k), [0]]
        )
        hi = np.concatenate(
            [self._b, self._b, np.zeros(2 * n_eq + 2 * n_ub), np.full(2 * k, inf), [inf]]
        )
        cols = 2 * n + 5 * k
        self._h = _highs(a, np.zeros(cols), np.zeros(cols), np.full(cols, inf), lo, hi)
        self._target: int | None = None

    def _sync(self) -> None:
        figs, n, k, h = self.linked.figures, self._n, self._k, self._h
        cost = np.array([0.0 if f.suppressed or f.fixed else f.cost for f in figs])
        upper = np.array([0.0 if f.fixed and not f.suppressed else np.inf for f in figs])
        dev = np.arange(2 * n, 2 * n + 4 * k, dtype=np.int32)
        h.changeColsBounds(4 * k, dev, np.zeros(4 * k), np.tile(upper, 4))
        h.changeColsCost(k, np.arange(2 * n + 4 * k, 2 * n + 5 * k, dtype=np.int32), cost)

    def protect(self, i: int, width: float) -> list[int] | None:
        """The published figures to suppress so that figure i's interval is at least
        ``width`` wide (the cheapest such set by the LP), or None if no two tables
        consistent with the fixed figures and the form's logic are that far apart."""
        self._sync()
        n, k, h = self._n, self._k, self._h
        p_up, m_down = 2 * n + i, 2 * n + 3 * k + i  # z+ above the value, z- below it
        if self._target is not None:
            h.changeCoeff(self._row, 2 * n + self._target, 0.0)
            h.changeCoeff(self._row, 2 * n + 3 * k + self._target, 0.0)
        # Figure i is suppressed: the target row asks (a_i z+ - v_i) + (v_i - a_i z-) >= width.
        h.changeCoeff(self._row, p_up, 1.0)
        h.changeCoeff(self._row, m_down, 1.0)
        h.changeColBounds(2 * n + k + i, 0.0, 0.0)  # m+_i: z+ does not go below
        h.changeColBounds(2 * n + 2 * k + i, 0.0, 0.0)  # p-_i: z- does not go above
        h.changeRowBounds(self._row, width, np.inf)
        self._target = i
        h.run()
        self.solves += 1
        if not _optimal(h):
            return None
        x = np.asarray(h.getSolution().col_value)[2 * n + 4 * k :]
        figs = self.linked.figures
        return [int(j) for j in np.flatnonzero(x > self.TOL) if not figs[j].suppressed]
