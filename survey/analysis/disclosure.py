"""Disclosure control of everything that leaves the analysis (DESIGN.md invariant 6).

Rules (threshold T = the study's ``suppression_threshold``, default 10):

* primary: a domain (a table column) whose unweighted base is under T is not published (all
  its cells and its base); a cell with 0 < n < T is suppressed; in a domain under 30, the 0 %
  and 100 % cells of a sensitive item are suppressed (they would say what everyone answered).
* complementary: across *all linked tables of an item* — its frequency tables per cohort and
  pool, its cross-tabs, the summary tables and charts that repeat its cells, the tables of the
  items its display depends on and of the variables derived from it — so that no suppressed
  cell can be recovered by subtraction. Weights are constant within a cohort, so a published
  %, CI or n each reveal the count: the attacker is modelled as knowing every published count.
* protection: for every suppressed cell, the interval an attacker derives by linear
  programming over all published figures of the linked set (scipy ``linprog``, HiGHS) is at
  least T wide.

Method: the *hypercube method* (Repsilber; as in tau-Argus, and sdcTable's ``HYPERCUBE``) in
its two-dimensional form, driven by the LP audit (the attacker model of Fischetti & Salazar):
for each suppressed cell whose audited interval is too narrow, suppress the cheapest partner
cells that form a rectangle with it in one of its tables (a pair in a one-column table) whose
estimated width reaches T (cost: the cell's count + 1, tenfold for a base); audit that cell
again, and repeat until every suppressed cell passes. Adding suppressions only enlarges the
attacker's feasible set, so cells that passed stay passing and the loop ends.

The linear model: the respondents of the linked set are grouped into *atoms*, the distinct
combinations of the columns the figures are defined on; each figure is the sum of the atoms
it covers. Atoms absent from the data count as known zeros, which only narrows the attacker's
intervals: the audit is, if anything, stricter than the attacker. Linked sets of different
items share the breakdown margins (sex, age band, grade, child's stage) and the cohort totals
of the exempt tables: those enter every set as fixed figures.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

from survey.analysis.tables import Analysis, Cell, Table
from survey.analysis.variables import BREAKDOWN_VARS, BREAKDOWNS, OUTSIDE
from survey.cohorts import COHORTS, GUARDIAN_COHORTS

SENSITIVE_DOMAIN = 30  # under this base, 0 % and 100 % of sensitive items are suppressed
FOOTNOTE = "＊ 秘匿（回答者数が少ないため、または他の数値から計算できないように非表示）"
MARK = "＊"


@dataclass(slots=True)
class Figure:
    key: Hashable
    where: tuple[tuple[str, tuple[int, ...]], ...]
    n: int
    cell: Cell | None  # None: a fixed figure of another table (margins, cohort totals)
    fixed: bool
    suppressed: bool
    cost: float
    places: list[tuple[int, int, int]] = field(default_factory=list)  # (grid, row, col)


@dataclass(slots=True)
class Linked:
    figures: list[Figure]
    counts: np.ndarray  # atom sizes
    member: sparse.csr_matrix  # figures x atoms
    grids: list[np.ndarray]  # per table: figure index per (row, col), -1 where none


@dataclass(slots=True)
class Report:
    threshold: int
    sets: int = 0
    suppressed_primary: int = 0
    suppressed_complementary: int = 0
    lp_solves: int = 0
    unprotectable: list[Hashable] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)


def is_primary(cell: Cell, threshold: int) -> bool:
    if cell.domain_n < threshold:
        return True  # the domain is not published at all
    if cell.base:
        return False
    if 0 < cell.n < threshold:
        return True
    # 0 % or 100 % of a sensitive item in a small domain says what everyone there answered.
    return (
        cell.sensitive
        and cell.domain_n < SENSITIVE_DOMAIN
        and (cell.n == 0 or cell.n == cell.domain_n)
    )


def _group(cohort: str) -> str:
    return cohort if cohort in GUARDIAN_COHORTS else "persons"


def _table_group(t: Table) -> str:
    return _group(t.group) if t.group in COHORTS else "persons"  # pools hold person cohorts


def linked_sets(analysis: Analysis) -> list[tuple[str, list[Table]]]:
    """The linked sets: (family, cohort group); breakdown variables' sets first."""
    sets: dict[tuple[str, str], list[Table]] = defaultdict(list)
    for t in analysis.tables:
        if t.kind == "summary":
            continue  # repeats cells of the variables' tables (same Cell objects)
        sets[(t.family, _table_group(t))].append(t)
    order = sorted(sets, key=lambda k: (k[0] not in BREAKDOWN_VARS, k))
    return [(f"{fam}@{grp}", sets[(fam, grp)]) for fam, grp in order]


def _fixed(analysis: Analysis, group: str, tables: list[Table]) -> list[Figure]:
    """Cohort totals (exempt tables publish them) and the breakdowns' frequency cells."""
    out = []
    cohorts = sorted({t.group for t in tables if t.group in COHORTS})
    if group == "persons":
        cohorts = [c for c in COHORTS if _group(c) == "persons"]
    frame = analysis.frame
    for c in cohorts:
        idx = COHORTS.index(c)
        n = int((frame["cohort"] == idx).sum())
        if n:
            out.append(Figure(("total", c), (("cohort", (idx,)),), n, None, True, False, np.inf))
    own = {t.variable for t in tables}
    for t in analysis.tables:
        if t.by is None and t.group in cohorts and t.variable in BREAKDOWNS[t.group]:
            if t.variable in own:
                continue
            spec = next(s for s in analysis.specs[t.group] if s.id == t.variable)
            idx = COHORTS.index(t.group)
            column = f"by:{t.group}:{t.variable}"
            for r, row in enumerate(t.cells):
                cell = row[0]
                if cell is None or cell.base:
                    continue  # the base is the cohort total, already fixed
                # On the breakdown column the item sets use (the same variable, so the
                # attacker's cells stay consistent): an option, or not one (無回答 etc.).
                code = spec.rows[r][1][0]
                where = (("cohort", (idx,)), (column, (code,) if code >= 0 else (OUTSIDE,)))
                if code < 0 and r != len(spec.rows) - 1:
                    continue  # 答えたくない and 無回答 together: the last row stands for both
                n = (
                    cell.n
                    if code >= 0
                    else sum(
                        c.n
                        for c, (_, codes) in zip((x[0] for x in t.cells), spec.rows, strict=False)
                        if c is not None and codes[0] < 0
                    )
                )
                suppressed = (
                    cell.suppressed
                    if code >= 0
                    else any(
                        x[0] is not None and x[0].suppressed
                        for x, (_, codes) in zip(t.cells, spec.rows, strict=False)
                        if codes[0] < 0
                    )
                )
                out.append(Figure(("margin", cell.key), where, n, None, True, suppressed, np.inf))
    return out


def build_linked(analysis: Analysis, tables: list[Table], group: str) -> Linked:
    figures: list[Figure] = []
    index: dict[Hashable, int] = {}
    grids = []
    for gi, t in enumerate(tables):
        grid = np.full((len(t.rows), len(t.columns)), -1, dtype=np.int64)
        for r, row in enumerate(t.cells):
            for c, cell in enumerate(row):
                if cell is None:
                    continue
                i = index.get(cell.key)
                if i is None:
                    cost = (cell.n + 1) * (10 if cell.base else 1)
                    i = index[cell.key] = len(figures)
                    figures.append(
                        Figure(cell.key, cell.where, cell.n, cell, False, cell.suppressed, cost)
                    )
                figures[i].places.append((gi, r, c))
                grid[r, c] = i
        grids.append(grid)
    for f in _fixed(analysis, group, tables):
        if f.key not in index:
            index[f.key] = len(figures)
            figures.append(f)
    columns = sorted({col for f in figures for col, _ in f.where} | {"cohort"})
    cohorts = [COHORTS.index(c) for c in COHORTS if _group(c) == group]
    atoms, counts = _atoms(analysis.frame, columns, cohorts)
    position = {col: j for j, col in enumerate(columns)}
    data_rows, data_cols = [], []
    for i, f in enumerate(figures):
        mask = np.ones(len(atoms), dtype=bool)
        for col, codes in f.where:
            mask &= np.isin(atoms[:, position[col]], codes)
        hits = np.flatnonzero(mask)
        data_rows += [i] * len(hits)
        data_cols += hits.tolist()
    member = sparse.csr_matrix(
        (np.ones(len(data_rows)), (data_rows, data_cols)), shape=(len(figures), len(atoms))
    )
    return Linked(figures, counts.astype(np.float64), member, grids)


def _atoms(
    frame: pd.DataFrame, columns: list[str], cohorts: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """The attacker's cells: per cohort, every combination of the set's variables seen in the
    data (their logic ties them: who was shown what) crossed with every value of each
    breakdown (the attacker does not know how sex and age combine with the answers)."""
    by_cols = [c for c in columns if c.startswith("by:")]
    var_cols = [c for c in columns if c not in by_cols and c != "cohort"]
    blocks = []
    for idx in cohorts:
        rows = frame[frame["cohort"] == idx]
        if rows.empty:
            continue
        own = [c for c in by_cols if c.startswith(f"by:{COHORTS[idx]}:")]
        parts = [rows[var_cols].drop_duplicates()] if var_cols else [pd.DataFrame(index=[0])]
        for b in own:
            parts.append(pd.DataFrame({b: np.unique(rows[b].to_numpy())}))
        block = parts[0].reset_index(drop=True)
        for part in parts[1:]:
            block = block.merge(part, how="cross")
        block["cohort"] = idx
        for b in by_cols:
            if b not in own:
                block[b] = OUTSIDE
        blocks.append(block[columns])
    atoms = pd.concat(blocks, ignore_index=True)
    present = frame[frame["cohort"].isin(cohorts)]
    sizes = present.groupby(columns).size().rename("_n").reset_index()
    merged = atoms.merge(sizes, on=columns, how="left")
    return atoms.to_numpy(dtype=np.int64), merged["_n"].fillna(0).to_numpy(dtype=np.float64)


def interval(linked: Linked, i: int, report: Report | None = None) -> tuple[float, float]:
    """The attacker's bounds on figure ``i`` from every published figure of the set."""
    published = [j for j, f in enumerate(linked.figures) if not f.suppressed]
    a = linked.member[published]
    b = a @ linked.counts
    c = linked.member[i].toarray().ravel()
    bounds = []
    for sign in (1.0, -1.0):
        res = linprog(sign * c, A_eq=a, b_eq=b, bounds=(0, None), method="highs")
        if report is not None:
            report.lp_solves += 1
        if res.status != 0:  # cannot happen: the true counts are feasible
            raise RuntimeError(f"disclosure audit LP failed: {res.message}")
        bounds.append(sign * res.fun)
    return bounds[0], bounds[1]


class Solver:
    """The same LP as :func:`interval`, on one HiGHS model kept between solves (highspy):
    only the objective changes from one cell to the next, so each solve starts warm. Rebuilt
    when the published figures change (a suppression removes a constraint)."""

    def __init__(self, linked: Linked, report: Report) -> None:
        self.linked, self.report = linked, report
        self._state: tuple[int, ...] | None = None
        self._h: Any = None

    def _build(self) -> None:
        import highspy

        linked = self.linked
        published = [j for j, f in enumerate(linked.figures) if not f.suppressed]
        a = linked.member[published].tocsc()
        b = a @ linked.counts
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = a.shape[1], a.shape[0]
        lp.col_cost_ = np.zeros(a.shape[1])
        lp.col_lower_ = np.zeros(a.shape[1])
        lp.col_upper_ = np.full(a.shape[1], highspy.kHighsInf)
        lp.row_lower_ = b
        lp.row_upper_ = b
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = a.indptr
        lp.a_matrix_.index_ = a.indices
        lp.a_matrix_.value_ = a.data
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
        self._h = h

    def interval(self, i: int) -> tuple[float, float]:
        state = tuple(j for j, f in enumerate(self.linked.figures) if f.suppressed)
        if state != self._state:
            self._build()
            self._state = state
        h = self._h
        c = self.linked.member[i].toarray().ravel()
        n = len(c)
        out = []
        for sign in (1.0, -1.0):
            h.changeColsCost(n, np.arange(n, dtype=np.int32), sign * c)
            h.run()
            self.report.lp_solves += 1
            if h.getModelStatus() != h.getModelStatus().__class__.kOptimal:
                return interval(self.linked, i, self.report)  # fall back to linprog
            out.append(sign * h.getInfo().objective_function_value)
        return out[0], out[1]


def _options(linked: Linked, i: int) -> list[tuple[float, float, list[int]]]:
    """(estimated width, cost, new figures) of each rectangle or pair through figure i."""
    figs = linked.figures
    out = []

    def usable(j: int) -> bool:
        return j >= 0 and not (figs[j].fixed and not figs[j].suppressed)

    def cost(js: list[int]) -> float:
        return sum(0.0 if figs[j].suppressed else figs[j].cost for j in js)

    n = figs[i].n
    for gi, r, c in figs[i].places:
        grid = linked.grids[gi]
        rows, cols = grid.shape
        base_row = rows - 1
        for r2 in range(rows):
            if r2 == r:
                continue
            j = grid[r2, c]
            if cols == 1 or r2 == base_row:
                if usable(j) and r2 != base_row:
                    out.append((float(n + figs[j].n), cost([j]), [j]))
                continue
            for c2 in range(cols):
                if c2 == c:
                    continue
                js = [grid[r2, c], grid[r, c2], grid[r2, c2]]
                if all(usable(x) for x in js):
                    a, b, d = (figs[x].n for x in js)
                    width = min(n, d) + min(a, b)
                    out.append((float(width), cost(js), js))
    return out


def _choose(linked: Linked, i: int, threshold: int) -> list[int]:
    options = [
        o for o in _options(linked, i) if any(not linked.figures[j].suppressed for j in o[2])
    ]
    if not options:
        return []
    enough = [o for o in options if o[0] >= threshold]
    best = min(enough, key=lambda o: o[1]) if enough else max(options, key=lambda o: (o[0], -o[1]))
    return [j for j in best[2] if not linked.figures[j].suppressed]


def _fallback(linked: Linked, i: int) -> list[int]:
    """The cheapest figure still published in a row or column of i's tables."""
    figs = linked.figures
    seen = []
    for gi, r, c in figs[i].places:
        grid = linked.grids[gi]
        seen += [int(j) for j in (*grid[r, :], *grid[:, c]) if j >= 0]
    free = [j for j in seen if not figs[j].suppressed and not figs[j].fixed]
    return [min(free, key=lambda j: figs[j].cost)] if free else []


def protect_set(linked: Linked, threshold: int, report: Report) -> None:
    """Complementary suppression until every suppressed figure passes the audit."""
    figs = linked.figures
    pending = [i for i, f in enumerate(figs) if f.suppressed and not f.fixed]
    solver = Solver(linked, report)
    while pending:
        low, high = solver.interval(pending[0])
        i = pending[0]
        if high - low >= threshold - 1e-9:
            pending.pop(0)
            continue
        new = _choose(linked, i, threshold) or _fallback(linked, i)
        if not new:
            report.unprotectable.append(figs[i].key)  # everything it could hide behind is fixed
            pending.pop(0)
            continue
        for j in new:
            figs[j].suppressed = True
            report.suppressed_complementary += 1
            pending.append(j)


def apply(analysis: Analysis, threshold: int) -> Report:
    """Suppress (primary and complementary) every table of the analysis, in place."""
    report = Report(threshold)
    for t in analysis.tables:
        for cell in t.all_cells():
            cell.suppressed = cell.primary = is_primary(cell, threshold)
    report.suppressed_primary = len(
        {c.key for t in analysis.tables for c in t.all_cells() if c.primary}
    )
    for name, tables in linked_sets(analysis):
        group = name.split("@", 1)[1]
        linked = build_linked(analysis, tables, group)
        report.sets += 1
        if any(f.suppressed and not f.fixed for f in linked.figures):
            protect_set(linked, threshold, report)
        for f in linked.figures:
            if f.cell is not None:
                f.cell.suppressed = f.suppressed
    return report


def audit(analysis: Analysis, threshold: int, fast: bool = False) -> Report:
    """Check the published tables as they stand: nothing published rests on fewer than T
    respondents, and every suppressed figure's LP interval is at least T wide."""
    report = Report(threshold)
    for t in analysis.tables:
        for cell in t.all_cells():
            if cell.suppressed:
                continue
            if cell.domain_n < threshold:
                report.violations.append(f"{t.id}: published domain of {cell.domain_n}")
            elif is_primary(cell, threshold):
                report.violations.append(f"{t.id}: published cell of {cell.n}")
    for name, tables in linked_sets(analysis):
        linked = build_linked(analysis, tables, name.split("@", 1)[1])
        report.sets += 1
        solver = Solver(linked, report)
        for i, f in enumerate(linked.figures):
            if f.suppressed and not f.fixed:
                low, high = solver.interval(i) if fast else interval(linked, i, report)
                if high - low < threshold - 1e-9:
                    report.violations.append(f"{name}: {f.key} in [{low:g}, {high:g}]")
    return report


def published_frame(table: Table) -> pd.DataFrame:
    """A table as it is published: n, %, CI per column; suppressed figures as ＊."""
    records = []
    for label, row in zip(table.rows, table.cells, strict=True):
        record: dict[str, object] = {"区分": label}
        for col, cell in zip(table.columns, row, strict=True):
            prefix = col if len(table.columns) > 1 or table.kind == "summary" else ""
            names = [
                f"{prefix} n".strip(),
                f"{prefix} %".strip(),
                f"{prefix} 95%CI下限".strip(),
                f"{prefix} 95%CI上限".strip(),
            ]
            if cell is None:
                values: list[object] = ["", "", "", ""]
            elif cell.suppressed:
                values = [MARK, MARK, MARK, MARK] if not cell.base else [MARK, "", "", ""]
            elif cell.base:
                values = [cell.n, "", "", ""]
            else:
                values = [cell.n, round(cell.pct, 1), round(cell.low, 1), round(cell.high, 1)]
            record.update(zip(names, values, strict=True))
        records.append(record)
    return pd.DataFrame(records)
