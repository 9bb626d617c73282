"""Cross-tabs in the report, in the layout of Japanese survey reports: one row per column of
the table (全体, then each group of the breakdown) with its base n and the % of each option
(表側 the groups, 表頭 the options), and the Rao–Scott test where it is published.

Only published figures: a suppressed cell is ＊, a suppressed group (its base) all ＊; the
n and % are those of :func:`disclosure.published_frame` (the CIs are in the XLSX of
``survey analyze``).
"""

from __future__ import annotations

import math

import pandas as pd

from survey.analysis.disclosure import MARK
from survey.analysis.run import published_test
from survey.analysis.tables import BY_LABELS, Table

N_COLUMN = "回答者数"


def frame(table: Table) -> pd.DataFrame:
    """Groups as rows: 区分, n, then the % of each row of the item (無回答 included)."""
    label = BY_LABELS.get(table.by or "", table.by or "")
    options = table.rows[:-1]
    records = []
    for j, column in enumerate(table.columns):
        base = table.cells[-1][j]
        record: dict[str, object] = {label: column}
        hidden = base is None or base.suppressed
        record[N_COLUMN] = MARK if hidden or base is None else base.n
        for i, option in enumerate(options):
            cell = table.cells[i][j]
            if cell is None:
                value: object = ""
            elif cell.suppressed or hidden:
                value = MARK
            elif math.isnan(cell.pct):
                value = "－"  # nobody in the group answered: no share
            else:
                value = round(cell.pct, 1)
            record[option] = value
        records.append(record)
    return pd.DataFrame(records)


WIDE = 8  # options beyond this: options as rows, groups as columns (the page is 170 mm)


def page_frame(table: Table) -> pd.DataFrame:
    """:func:`frame` as printed: transposed when the item has many options."""
    df = frame(table)
    if len(table.rows) - 1 <= WIDE:
        return df
    first = str(df.columns[0])
    out = df.set_index(first).T.reset_index(names="区分")
    out.columns = pd.Index(["区分", *(str(c) for c in out.columns[1:])])
    return out


def test_sentence(table: Table) -> str | None:
    """The published Rao–Scott result in words, or None (no test, or a cell suppressed)."""
    test = published_test(table)
    if test is None:
        return None
    by = BY_LABELS.get(table.by or "", table.by or "")
    p = "p < 0.001" if test.p_value < 0.001 else f"p = {test.p_value:.3f}"
    verdict = (
        "統計的に有意な差があります" if test.p_value < 0.05 else "統計的に有意な差はみられません"
    )
    return (
        f"{by}による違い（Rao–Scott の補正χ²検定）: F = {test.statistic:.2f}"
        f"（自由度 {test.ndf:.2f}, {test.ddf:.2f}）、{p}。有意水準5%で{verdict}。"
    )
