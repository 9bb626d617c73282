"""付録 単純集計表: the simple tabulation of every item per cohort (n and weighted % of each
row), in two columns per page, after the questionnaires.

The same published cells as the results chapter's tables (suppressed ones ＊); an item
with nothing published still has its rows, all ＊.
"""

from __future__ import annotations

import math

import pandas as pd
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Table

from survey.analysis.disclosure import FOOTNOTE, MARK
from survey.analysis.report.assets import Outputs
from survey.analysis.report.style import Heading, Styles
from survey.analysis.tables import Table as Tabled
from survey.analysis.tables import group_label
from survey.cohorts import COHORT_LABELS

COLUMN = 82 * mm  # the width of one of the two frames (survey.analysis.report.style)


def _rows(t: Tabled) -> list[tuple[str, object, object]]:
    out: list[tuple[str, object, object]] = []
    for label, (cell, *_) in zip(t.rows, t.cells, strict=True):
        if cell is None:
            out.append((label, "", ""))
        elif cell.suppressed:
            out.append((label, MARK, "" if cell.base else MARK))
        elif cell.base:
            out.append((label, cell.n, ""))
        else:
            out.append((label, cell.n, "－" if math.isnan(cell.pct) else round(cell.pct, 1)))
    return out


def _table(rows: list[tuple[str, object, object]], styles: Styles) -> Table:
    def text(v: object) -> str:
        return f"{v:.1f}" if isinstance(v, float) else str(v)

    body = [[Paragraph(label, styles.cell), text(n), text(p)] for label, n, p in rows]
    table = Table(
        [["区分", "n", "%"], *body],
        colWidths=[COLUMN - 28 * mm, 14 * mm, 14 * mm],
        repeatRows=1,
        hAlign="LEFT",
    )
    table.setStyle(styles.table(size=7.5))
    return table


def appendix(
    blocks: dict[str, list[tuple[str, list[Tabled]]]], styles: Styles, outputs: Outputs
) -> list[Flowable]:
    """Per cohort (``blocks``: its tables by question block, as the results chapter orders
    them), every item's rows."""
    out: list[Flowable] = [Heading("付録　単純集計表", styles.h1, 0, "tabulation")]
    out.append(
        Paragraph(
            "各設問の回答者数（n）と重み付けした割合（%）です。割合の基数は各設問の回答者数（基数）"
            f"で、複数回答の設問は回答者に対する割合です。{FOOTNOTE}",
            styles.note,
        )
    )
    for cohort in COHORT_LABELS:
        if cohort not in blocks:
            continue
        label = group_label(cohort)
        out.append(Heading(f"単純集計表（{label}）", styles.h2, 1, f"tabulation-{cohort}"))
        records = []
        for name, tables in blocks[cohort]:
            out.append(Paragraph(f"■ {name}", styles.h3))
            for t in tables:
                rows = _rows(t)
                title = t.title.removesuffix(f"（{label}）")
                multi = "（複数回答）" if t.kind == "multi" else ""
                out.append(
                    KeepTogether([Paragraph(title + multi, styles.cell_head), _table(rows, styles)])
                )
                records += [{"設問": title + multi, "区分": r, "n": n, "%": p} for r, n, p in rows]
        outputs.table(f"単純集計表（{label}）", f"単純集計表（{label}）", pd.DataFrame(records), [])
    return out
