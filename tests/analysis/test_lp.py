"""The attacker's LP on hand-made linked sets: what it may conclude and what not."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from survey.analysis.linked import Figure, Linked
from survey.analysis.lp import Solver, interval


def _linked(rows: list[list[float]], truth: list[float], published: list[bool]) -> Linked:
    figures = [
        Figure(("f", i), (), int(np.dot(r, truth)), None, False, not p, 1.0)
        for i, (r, p) in enumerate(zip(rows, published, strict=True))
    ]
    n = len(truth)
    empty = sparse.csr_matrix((0, n))
    return Linked(figures, sparse.csr_matrix(rows), empty, empty, np.asarray(truth), [])


def test_a_figure_nothing_bounds_from_above_has_an_infinite_interval() -> None:
    # A suppressed count whose unknowns no published figure or structural constraint ties
    # (e.g. a follow-up whose link to its parent the data do not satisfy) is unbounded
    # above: that is the widest protection, not an error. It used to raise "LP failed"
    # and stopped survey analyze on a 3,000-row synthetic dataset.
    linked = _linked([[1, 1, 0], [0, 0, 1]], [4.0, 3.0, 9.0], [False, True])
    assert interval(linked, 0) == (0.0, np.inf)
    assert Solver(linked).interval(0) == (0.0, np.inf)


def test_a_published_total_bounds_its_suppressed_part() -> None:
    linked = _linked([[1, 0], [1, 1]], [4.0, 3.0], [False, True])
    low, high = interval(linked, 0)
    assert (low, high) == (0.0, 7.0)
