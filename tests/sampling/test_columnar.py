"""The column draw's helpers give what the plain NumPy calls they replace give."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from survey.sampling.columnar import _unique_rows


def _reference(columns: list[np.ndarray]) -> tuple[list[tuple[int, ...]], list[int], list[int]]:
    found, inverse, counts = np.unique(
        np.stack(columns, axis=1), axis=0, return_inverse=True, return_counts=True
    )
    return [tuple(r) for r in found.tolist()], inverse.reshape(-1).tolist(), counts.tolist()


@given(
    st.integers(1, 4).flatmap(
        lambda width: st.integers(1, 60).flatmap(
            lambda n: st.lists(
                hnp.arrays(np.int64, n, elements=st.integers(0, 12)),
                min_size=width,
                max_size=width,
            )
        )
    )
)
def test_unique_rows_is_numpys_row_unique(columns: list[np.ndarray]) -> None:
    rows, inverse, counts = _unique_rows(columns)
    assert (rows, inverse.tolist(), counts.tolist()) == _reference(columns)


def test_unique_rows_too_wide_to_pack() -> None:
    # base ** width would overflow int64: the row-wise way gives the same answer.
    columns = [np.array([2**20, 0, 2**20, 5]), np.array([1, 1, 1, 0]), np.array([0, 3, 0, 3])]
    columns *= 2
    rows, inverse, counts = _unique_rows(columns)
    assert (rows, inverse.tolist(), counts.tolist()) == _reference(columns)
