"""Charts of the published tables: one style, the embedded Japanese font (IPAex Gothic).

* an item: horizontal bars of its weighted % with the % at each bar and n= (the base);
* a grid (the K6 items): 100 % stacked bars, one bar per item.

Only published figures are drawn: a suppressed cell has no bar and no label (＊ with the
footnote). In a stacked bar the suppressed segments are drawn as *one* blank gap at the end
of the bar, never in place: a gap of its own width would show the hidden share, while the
gaps' total (100 % minus the published shares) is in the table already.

Drawn on a Figure of its own (no pyplot, no global rcParams), as survey/fieldwork.py does, so
office pages may render them in worker threads. PNG for the office pages, PDF (vector) for
the report.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from survey.analysis.disclosure import FOOTNOTE, MARK
from survey.analysis.offload import Offload, results
from survey.analysis.tables import Analysis, Cell, Table, group_label

COLOR = "#3b6ea5"
GRID_COLORS = ("#1f4e79", "#3b6ea5", "#7fa7d0", "#c3d6ea", "#f2c48d", "#bbbbbb", "#dddddd")
K6_ITEMS = tuple(f"k6_{i}" for i in range(1, 7))


def _font() -> Any:
    from matplotlib.font_manager import FontProperties

    from mailing.fonts import gothic_path

    return FontProperties(fname=str(gothic_path()))  # IPAex Gothic, embedded in PNG and PDF


def _short(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bar_chart(table: Table, column: int = 0) -> Figure:
    """Horizontal bars of one column of a frequency table (the base row is the n=)."""
    font = _font()
    cells = [row[column] for row in table.cells]
    *rows, base = cells
    labels = table.rows[:-1]
    fig = Figure(figsize=(8, 0.42 * len(rows) + 1.8), dpi=110)
    ax = fig.subplots()
    ys = list(range(len(rows)))[::-1]
    shown = [c for c in rows if c is not None and not c.suppressed and not math.isnan(c.pct)]
    top = max([100.0, *(c.pct for c in shown)]) if table.kind == "multi" else 100.0
    hidden = False
    for y, cell in zip(ys, rows, strict=True):
        if cell is None or cell.suppressed:
            hidden = hidden or cell is not None
            ax.text(
                top * 0.01, y, MARK if cell is not None else "", va="center", fontproperties=font
            )
            continue
        pct = 0.0 if math.isnan(cell.pct) else cell.pct  # no one in the row: 0 %
        ax.barh(y, pct, color=COLOR, height=0.65)
        ax.text(pct + top * 0.01, y, f"{pct:.1f}%", va="center", fontsize=8)
    ax.set_yticks(ys, [_short(x) for x in labels], fontproperties=font, fontsize=8)
    ax.set_xlim(0, top * 1.12)
    ax.set_xlabel("%", fontproperties=font)
    ax.spines[["top", "right"]].set_visible(False)
    n = _n(base)
    fig.suptitle(
        f"{_short(table.title, 48)}（n={n}）", fontproperties=font, fontsize=10, x=0.01, ha="left"
    )
    _footnotes(fig, font, hidden, table.kind == "multi")
    return fig


def _n(base: Cell | None) -> str:
    return MARK if base is None or base.suppressed else f"{base.n:,}"


def _footnotes(fig: Figure, font: Any, hidden: bool, multi: bool) -> None:
    notes = []
    if multi:
        notes.append("複数回答（回答者に対する割合。合計は100%を超えることがあります）")
    if hidden:
        notes.append(FOOTNOTE)
    notes.append("割合は重み付け推計値")
    fig.text(0.01, 0.01, "\n".join(notes), fontproperties=font, fontsize=7, va="bottom")
    height = fig.get_figheight()
    fig.subplots_adjust(
        left=0.36, right=0.97, top=1 - 0.5 / height, bottom=(0.45 + 0.13 * len(notes)) / height
    )


def stacked_chart(title: str, tables: list[Table]) -> Figure:
    """100 % stacked bars: one bar per table (e.g. each K6 item), segments its rows."""
    font = _font()
    fig = Figure(figsize=(8, 0.5 * len(tables) + 2.4), dpi=110)
    ax = fig.subplots()
    ys = list(range(len(tables)))[::-1]
    legend = tables[0].rows[:-1]
    hidden = False
    for y, t in zip(ys, tables, strict=True):
        left = 0.0
        for k, row in enumerate(t.cells[:-1]):
            cell = row[0]
            if cell is None or cell.suppressed or math.isnan(cell.pct):
                hidden = hidden or (cell is not None and cell.suppressed)
                continue  # drawn as part of the one gap at the end (see module doc)
            color = GRID_COLORS[k % len(GRID_COLORS)]
            ax.barh(y, cell.pct, left=left, color=color, height=0.6, edgecolor="white")
            if cell.pct >= 6:
                ink = "white" if k < 2 else "black"
                ax.text(
                    left + cell.pct / 2,
                    y,
                    f"{cell.pct:.0f}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color=ink,
                )
            left += cell.pct
        if left < 99.95:
            ax.text(min(left + 1, 97), y, MARK, va="center", fontsize=8, fontproperties=font)
    labels = [f"{_short(_row_text(t), 16)}（n={_n(t.cells[-1][0])}）" for t in tables]
    ax.set_yticks(ys, labels, fontproperties=font, fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("%", fontproperties=font)
    ax.spines[["top", "right"]].set_visible(False)
    handles = [
        ax.barh([0], [0], color=GRID_COLORS[k % len(GRID_COLORS)])[0] for k in range(len(legend))
    ]
    ax.legend(
        handles,
        [_short(x, 12) for x in legend],
        prop=font,
        fontsize=7,
        ncols=4,
        loc="lower left",
        bbox_to_anchor=(0, 1.02),
        frameon=False,
    )
    fig.suptitle(title, fontproperties=font, fontsize=10, x=0.01, ha="left")
    _footnotes(fig, font, hidden, False)
    fig.subplots_adjust(top=1 - 1.1 / fig.get_figheight())
    return fig


def _row_text(t: Table) -> str:
    """A grid row's own text (the title is 「question — row（cohort）」)."""
    return t.title.rsplit("（", 1)[0].split(" — ")[-1]


def save(fig: Figure, stem: Path) -> list[Path]:
    out = []
    for ext in ("png", "pdf"):
        path = stem.with_suffix(f".{ext}")
        fig.savefig(
            path, format=ext, metadata={"Creator": "survey analyze"} if ext == "pdf" else None
        )
        out.append(path)
    return out


Job = tuple[str | None, list[Table], Path]  # a grid's title (None: an item's bars), tables
PARALLEL_FROM = 24  # charts from which a second process pays for its start (about 1 s)


def _draw(job: Job) -> list[Path]:
    title, tables, stem = job
    return save(bar_chart(tables[0]) if title is None else stacked_chart(title, tables), stem)


def write_all(analysis: Analysis, folder: Path, workers: int | None = None) -> list[Path]:
    """Every item's chart per cohort and pool (its frequency table), and the K6 grid."""
    return start(analysis, folder, workers).paths()


def start(analysis: Analysis, folder: Path, workers: int | None = None) -> Drawing:
    """:func:`write_all` begun: from ``PARALLEL_FROM`` charts on they are drawn by
    ``workers`` child interpreters (default: one per core, at most 4) while the caller goes
    on; a chart costs ~0.3 s of text layout and rendering, and a study has hundreds."""
    folder.mkdir(parents=True, exist_ok=True)
    jobs: list[Job] = []
    freq = {(t.group, t.variable): t for t in analysis.tables if t.by is None}
    for t in analysis.tables:
        if t.by is not None or t.kind == "summary":
            continue
        if all(c.suppressed for c in t.all_cells()):
            continue  # nothing published: no chart
        jobs.append((None, [t], folder / t.id))
    groups = sorted({g for g, v in freq if v == K6_ITEMS[0]})
    for g in groups:
        items = [freq[(g, v)] for v in K6_ITEMS if (g, v) in freq]
        title = f"K6の各項目（{group_label(g)}）"
        jobs.append((title, items, folder / f"{g}__k6_grid"))
    workers = min(4, os.cpu_count() or 1) if workers is None else workers
    return Drawing(jobs, workers if workers >= 2 and len(jobs) >= PARALLEL_FROM else 1)


class Drawing:
    """Charts being drawn. Each of ``workers`` child interpreters
    (:mod:`survey.analysis.offload`) is given every ``workers``-th job; with one worker
    they are drawn here, when :meth:`paths` is asked."""

    def __init__(self, jobs: list[Job], workers: int) -> None:
        self._jobs, self._workers = jobs, workers
        self._work: list[Offload[list[list[Path]]]] = []
        try:
            for i in range(workers if workers > 1 else 0):
                self._work.append(Offload(_draw_many, jobs[i::workers]))
        except BaseException:
            self.cancel()  # a worker that could not start: none of the others left running
            raise

    def paths(self) -> list[Path]:
        """The files written, in the jobs' order (waiting for the workers)."""
        if not self._work:
            return [p for job in self._jobs for p in _draw(job)]
        drawn = results(self._work)
        w = self._workers
        return [p for j in range(len(self._jobs)) for p in drawn[j % w][j // w]]

    def cancel(self) -> None:
        """Stop any worker still drawing (the caller failed meanwhile)."""
        for work in self._work:
            work.cancel()


def _draw_many(jobs: list[Job]) -> list[list[Path]]:
    return [_draw(job) for job in jobs]


def response_rate_chart(rates: list[tuple[str, float, float]]) -> Figure:
    """Response rate per cohort (label, web %, paper %): bars stacked by channel, the total
    at each bar. Response rates are exempt from suppression (fieldwork counts, no answers)."""
    font = _font()
    fig = Figure(figsize=(8, 0.45 * len(rates) + 1.9), dpi=110)
    ax = fig.subplots()
    ys = list(range(len(rates)))[::-1]
    top = max([100.0, *(w + p for _, w, p in rates)])
    for y, (_, web, paper) in zip(ys, rates, strict=True):
        ax.barh(y, web, color=GRID_COLORS[0], height=0.6)
        ax.barh(y, paper, left=web, color=GRID_COLORS[2], height=0.6)
        ax.text(web + paper + top * 0.01, y, f"{web + paper:.1f}%", va="center", fontsize=8)
    ax.set_yticks(ys, [_short(label) for label, _, _ in rates], fontproperties=font, fontsize=8)
    ax.set_xlim(0, top * 1.12)
    ax.set_xlabel("回答率（%）", fontproperties=font)
    ax.spines[["top", "right"]].set_visible(False)
    handles = [ax.barh([0], [0], color=GRID_COLORS[k])[0] for k in (0, 2)]
    ax.legend(
        handles,
        ["Web", "紙"],
        prop=font,
        ncols=2,
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        frameon=False,
    )
    fig.suptitle(
        "対象別の回答率（回答方法別）", fontproperties=font, fontsize=10, x=0.01, ha="left"
    )
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.22, right=0.97, top=1 - 0.75 / height, bottom=0.55 / height)
    return fig


def interval_chart(table: Table) -> Figure:
    """A summary table (groups × measures, e.g. K6 10+/13+) as bars with their 95% CIs:
    one bar per published cell, none for a suppressed one (＊ at its place)."""
    font = _font()
    groups, measures = table.rows, table.columns
    fig = Figure(figsize=(8, 0.3 * len(groups) * len(measures) + 1.9), dpi=110)
    ax = fig.subplots()
    step = len(measures) + 1
    ticks, hidden = [], False
    for g, label in enumerate(groups):
        for m, cell in enumerate(table.cells[g]):
            y = -(g * step + m)
            if cell is None:
                continue
            if cell.suppressed or math.isnan(cell.pct):
                hidden = hidden or cell.suppressed
                ax.text(0.5, y, MARK, va="center", fontproperties=font, fontsize=8)
                continue
            error = [[cell.pct - cell.low], [cell.high - cell.pct]]
            ax.barh(
                y,
                cell.pct,
                color=GRID_COLORS[m % 3 * 2],
                height=0.8,
                xerr=error,
                error_kw={"elinewidth": 0.8, "capsize": 2},
            )
            ax.text(cell.high + 0.8, y, f"{cell.pct:.1f}%", va="center", fontsize=7)
        ticks.append((-(g * step + (len(measures) - 1) / 2), label))
    ax.set_yticks(
        [y for y, _ in ticks], [_short(x) for _, x in ticks], fontproperties=font, fontsize=8
    )
    tops = [c.high for c in table.all_cells() if not c.suppressed and not math.isnan(c.high)]
    ax.set_xlim(0, max([10.0, *tops]) * 1.2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no tick reads as a share
    ax.set_xlabel("%（横線は95%信頼区間）", fontproperties=font)
    ax.spines[["top", "right"]].set_visible(False)
    # Every position on the axis, ＊ included: autoscaling sees only the bars drawn, and a
    # suppressed cell below the last bar fell under the axis (it read as "0＊").
    lowest = (len(groups) - 1) * step + len(measures) - 1
    ax.set_ylim(-lowest - 0.6, 0.6)
    handles = [Patch(color=GRID_COLORS[m % 3 * 2]) for m in range(len(measures))]
    ax.legend(
        handles,
        measures,
        prop=font,
        ncols=len(measures),
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        frameon=False,
    )
    fig.suptitle(table.title, fontproperties=font, fontsize=10, x=0.01, ha="left")
    _footnotes(fig, font, hidden, False)
    fig.subplots_adjust(top=1 - 0.75 / fig.get_figheight())
    return fig
