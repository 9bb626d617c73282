"""What the office's 集計 pages show: the analysis computed once per dataset, its question
blocks, and each table as published (suppressed figures ＊) or as the internal view.

Computing the tables and their disclosure control takes tens of seconds on the demo (the
estimation of several hundred tables, then thousands of LP solves): done once per dataset
build and kept, so each page renders from the stored result in milliseconds. The result is
kept per study under a key of everything it depends on — the build's SHA-256, the
suppression threshold and the counts the weights come from — so a rebuilt dataset, a new
threshold or a newly logged undeliverable envelope is a new key and is computed afresh, never
served stale. It is kept in this process's memory only (it holds unsuppressed small cells:
no file of it is written).
"""

from __future__ import annotations

import math
import numbers
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from survey.analysis import disclosure
from survey.analysis.inputs import Inputs, design_table, rates_table
from survey.analysis.inputs import load as load_inputs
from survey.analysis.run import suppressed_tables
from survey.analysis.study import POOLS
from survey.analysis.tables import Analysis, Table, group_label
from survey.analysis.weights import study_counts
from survey.cohorts import COHORT_LABELS
from survey.errors import DataError
from survey.models import DatasetBuild, Study
from survey.study import effective_settings

Report = Callable[[str], None]
Key = tuple[str, int, tuple[tuple[str, int, int, int, int], ...]]
HEARTBEAT = 10.0  # seconds between "still working" lines of a long step


@dataclass(slots=True)
class Computed:
    """One dataset's tables after disclosure control, and the exempt tables."""

    key: Key
    inputs: Inputs
    analysis: Analysis
    report: disclosure.Report
    design: pd.DataFrame
    rates: pd.DataFrame
    seconds: float
    by_id: dict[str, Table] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {t.id: t for t in self.analysis.tables}


def current_key(session: Session, study: Study) -> Key | None:
    """The key of the analysis the study's data would give now (None: no dataset built)."""
    last = session.exec(
        select(DatasetBuild)
        .where(DatasetBuild.study_id == study.id)
        .order_by(col(DatasetBuild.id).desc())
    ).first()
    if last is None:
        return None
    threshold = int(effective_settings(study)["suppression_threshold"])
    counts = tuple(
        (c.cohort, c.frame, c.sampled, c.undeliverable, c.responses)
        for c in study_counts(session, study)
    )
    return (last.sha256, threshold, counts)


@contextmanager
def heartbeat(report: Report) -> Iterator[Report]:
    """``report``, and a line of the time elapsed after every HEARTBEAT seconds of silence:
    some steps (estimating the tables, the suppression) say nothing for half a minute, and
    a page that says nothing looks hung."""
    start = time.monotonic()
    last = [start]
    done = threading.Event()

    def say(line: str) -> None:
        last[0] = time.monotonic()
        report(line)

    def beat() -> None:
        while not done.wait(1.0):
            if time.monotonic() - last[0] >= HEARTBEAT:
                say(f"処理中です（開始から {time.monotonic() - start:.0f} 秒）")

    ticker = threading.Thread(target=beat, daemon=True)
    ticker.start()
    try:
        yield say
    finally:
        done.set()
        ticker.join()


class Store:
    """The computed analysis of each study, at most one (its newest key) per study."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, Computed] = {}
        self._computing: dict[str, threading.Lock] = {}

    def get(self, session: Session, study: Study) -> Computed | None:
        key = current_key(session, study)
        with self._lock:
            entry = self._entries.get(study.name)
            if entry is not None and entry.key != key:
                # Not the current data any more (rebuilt, or answers erased): forgotten, not
                # kept in memory with its unsuppressed cells.
                del self._entries[study.name]
                entry = None
        return entry

    def compute(self, engine: Engine, name: str, report: Report) -> Computed:
        """Compute (or wait for another request computing) the study's analysis now."""
        with self._lock:
            running = self._computing.setdefault(name, threading.Lock())
        if not running.acquire(blocking=False):
            report("別の画面で集計中です。終わるのを待っています")
            running.acquire()
        try:
            with Session(engine) as session:
                study = session.exec(select(Study).where(Study.name == name)).one()
                found = self.get(session, study)
                if found is not None:  # the other request computed this very key
                    return found
                key = current_key(session, study)
                if key is None:
                    raise DataError(
                        "データセットがまだ作成されていません。", "No dataset has been built."
                    )
                report("データセットを読み込んでいます")
                inputs = load_inputs(session, study)
            start = time.monotonic()
            with heartbeat(report) as say:
                say("集計表を計算しています")
                analysis, result = suppressed_tables(
                    inputs, built=lambda a: say(f"秘匿処理をしています（{len(a.tables):,} 表）")
                )
            computed = Computed(
                key,
                inputs,
                analysis,
                result,
                design_table(inputs),
                rates_table(inputs),
                time.monotonic() - start,
            )
            with self._lock:
                self._entries[name] = computed
            return computed
        finally:
            running.release()


# --- groups and blocks ------------------------------------------------------------------


def group_slug(group: str) -> str:
    """A group's name in a URL: a cohort's id, a pool's position (its name is Japanese)."""
    return group if group in COHORT_LABELS else f"pool{list(POOLS).index(group) + 1}"


def groups(analysis: Analysis) -> list[tuple[str, str, str]]:
    """(group, slug, label) of every cohort and pool with tables, in the study's order."""
    present = {t.group for t in analysis.tables}
    order = [*COHORT_LABELS, *POOLS]
    return [(g, group_slug(g), group_label(g)) for g in order if g in present]


def group_of(analysis: Analysis, slug: str) -> str | None:
    return next((g for g, s, _ in groups(analysis) if s == slug), None)


def summaries(analysis: Analysis) -> list[Table]:
    return [t for t in analysis.tables if t.kind == "summary"]


# --- a table as the page shows it -------------------------------------------------------


@dataclass(slots=True)
class Figure:
    n: str
    pct: str
    ci: str
    hidden: bool  # suppressed: ＊ in the published view, flagged in the internal one


@dataclass(slots=True)
class View:
    table: Table
    columns: list[str]
    rows: list[tuple[str, list[Figure]]]
    suppressed: bool
    test: str | None


def _number(value: Any) -> str:
    if isinstance(value, str):
        return value  # ＊ or ""
    if isinstance(value, float):
        return "－" if math.isnan(value) else f"{value:.1f}"  # no one in the row: no share
    return f"{value:,}"


def published_view(table: Table) -> View:
    """The table exactly as :func:`disclosure.published_frame` publishes it (its figures,
    its ＊): the page formats that frame and nothing else, so it cannot show more."""
    frame = disclosure.published_frame(table)
    values = frame.drop(columns=["区分"]).to_numpy(dtype=object)
    rows = []
    for label, row, cells in zip(frame["区分"], values, table.cells, strict=True):
        figures = []
        for j, cell in enumerate(cells):
            n, pct, low, high = (_number(v) for v in row[4 * j : 4 * j + 4])
            ci = disclosure.MARK if low == disclosure.MARK else (f"{low}–{high}" if low else "")
            figures.append(Figure(n, pct, ci, cell is not None and cell.suppressed))
        rows.append((str(label), figures))
    hidden = any(c.suppressed for c in table.all_cells())
    return View(table, list(table.columns), rows, hidden, None if hidden else _test(table))


def internal_view(table: Table) -> View:
    """Every figure, suppressed or not (for the analyst's checking only; never published)."""
    rows = []
    for label, cells in zip(table.rows, table.cells, strict=True):
        figures = []
        for cell in cells:
            if cell is None:
                figures.append(Figure("", "", "", False))
            elif cell.base:
                figures.append(Figure(f"{cell.n:,}", "", "", cell.suppressed))
            else:
                pct, low, high = (_number(round(v, 1)) for v in (cell.pct, cell.low, cell.high))
                ci = "" if low == "－" else f"{low}–{high}"
                figures.append(Figure(f"{cell.n:,}", pct, ci, cell.suppressed))
        rows.append((label, figures))
    hidden = any(c.suppressed for c in table.all_cells())
    return View(table, list(table.columns), rows, hidden, _test(table))


def _test(table: Table) -> str | None:
    if table.test is None:
        return None
    return f"Rao-Scott F = {table.test.statistic:.3f}, p = {table.test.p_value:.4f}"


def exempt_rows(frame: pd.DataFrame) -> list[list[str]]:
    """The design or response-rate table's rows as text: counts, rates (%), weights."""
    out = []
    for row in frame.itertuples(index=False):
        texts = []
        for column, value in zip(frame.columns, row, strict=True):
            if value is None or (isinstance(value, float) and math.isnan(value)):
                texts.append("—")
            elif str(column).endswith("率"):
                texts.append(f"{100 * float(value):.1f}%")
            elif isinstance(value, float):
                texts.append(f"{value:,.3f}")
            elif isinstance(value, numbers.Integral):
                texts.append(f"{value:,}")
            else:
                texts.append(str(value))
        out.append(texts)
    return out
