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
again, and repeat until every suppressed cell passes.

Fallback (what makes the guarantee unconditional): when no rectangle is left, or after
HYPERCUBE_ROUNDS rectangles the cell still fails, escalate: suppress its whole rows and
columns, then its whole tables, then every table of the linked set. An unpublished set leaves
the attacker only the fixed figures, so the last stage always passes. Adding suppressions only
enlarges the attacker's feasible set, so cells that passed stay passing and the loop ends:
after :func:`apply`, :func:`audit` reports nothing, on any data.

Required width: T, or (if less) the width a figure has when only the fixed figures are
published; the fixed figures are the exempt tables' cohort totals and the breakdowns'
margins, which every linked set shares (the breakdowns' sets are protected first, and a
cross-tab column whose margin is suppressed is not published).

The attacker's linear model (survey.analysis.linked): every combination of answers the form's
logic allows is an unknown count >= 0, whether or not it occurs in the data; multiple choice
items are modelled by their row counts with the exact constraints of pick patterns, and a
show-if follow-up's base equals its parent's cell (both items are one linked set).

Not modelled: one linked set combined with another beyond the shared fixed figures, and
unpublished implicit domains (e.g. those who did not give their sex, obtainable as a total
column minus the published columns): these are suppressed figures only when their margin is.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Hashable
from dataclasses import dataclass, field

import pandas as pd

from survey.analysis.linked import Linked, build_linked, group_of
from survey.analysis.lp import Solver, interval
from survey.analysis.tables import Analysis, Cell, Table
from survey.analysis.variables import BREAKDOWN_VARS, BREAKDOWNS
from survey.cohorts import COHORTS

SENSITIVE_DOMAIN = 30  # under this base, 0 % and 100 % of sensitive items are suppressed
FOOTNOTE = "＊ 秘匿（回答者数が少ないため、または他の数値から計算できないように非表示）"
MARK = "＊"


@dataclass(slots=True)
class Report:
    threshold: int
    sets: int = 0
    suppressed_primary: int = 0
    suppressed_complementary: int = 0
    lp_solves: int = 0
    escalations: int = 0
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


def _table_group(t: Table) -> str:
    return group_of(t.group) if t.group in COHORTS else "persons"  # pools hold person cohorts


def linked_sets(analysis: Analysis) -> list[tuple[str, list[Table]]]:
    """The linked sets: (family, cohort group); breakdown variables' sets first."""
    sets: dict[tuple[str, str], list[Table]] = defaultdict(list)
    for t in analysis.tables:
        if t.kind == "summary":
            continue  # repeats cells of the variables' tables (same Cell objects)
        sets[(t.family, _table_group(t))].append(t)
    order = sorted(sets, key=lambda k: (k[0] not in BREAKDOWN_VARS, k))
    return [(f"{fam}@{grp}", sets[(fam, grp)]) for fam, grp in order]


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


HYPERCUBE_ROUNDS = 3  # hypercube steps per figure before the fallback escalates
EPS = 1e-6


class _Need:
    """The protection a figure needs: T, or the whole width it has when only the fixed
    figures (exempt totals, breakdown margins) are published, if that is less: a domain of
    5 whose size the design table publishes cannot be made wider than 5 by hiding more."""

    def __init__(self, linked: Linked, threshold: int) -> None:
        self.full, self.threshold = Solver(linked, fixed_only=True), threshold
        self.cache: dict[int, float] = {}

    def __call__(self, i: int) -> float:
        if i not in self.cache:
            low, high = self.full.interval(i)
            self.cache[i] = min(float(self.threshold), high - low)
        return self.cache[i]


def _escalate(linked: Linked, i: int) -> list[int]:
    """The provably safe fallback, in stages: the figure's whole rows and columns (for a
    margin: every cell of its domain), then its whole tables, then the whole linked set (the
    set's figures all unpublished: the attacker knows only the fixed figures, which is the
    width _Need asks for)."""
    figs = linked.figures

    def free(js: list[int]) -> list[int]:
        return sorted({j for j in js if j >= 0 and not figs[j].suppressed and not figs[j].fixed})

    f = figs[i]
    stage = [int(j) for g, r, c in f.places for j in (*linked.grids[g][r], *linked.grids[g][:, c])]
    if f.fixed:  # a suppressed margin: the cells of its domain
        stage = [j for j, x in enumerate(figs) if set(f.where[1:]) <= set(x.where)]
    tables = [int(j) for g, _, _ in f.places for j in linked.grids[g].ravel()]
    for js in (stage, tables, list(range(len(figs)))):
        if free(js):
            return free(js)
    return []


def protect_set(linked: Linked, threshold: int, report: Report) -> None:
    """Complementary suppression until every suppressed figure passes the audit."""
    figs = linked.figures
    pending = deque(i for i, f in enumerate(figs) if f.suppressed)
    solver, need = Solver(linked), _Need(linked, threshold)
    rounds: dict[int, int] = defaultdict(int)
    while pending:
        i = pending[0]
        low, high = solver.interval(i)
        if high - low >= threshold - EPS or high - low >= need(i) - EPS:
            pending.popleft()
            continue
        rounds[i] += 1
        new = _choose(linked, i, threshold) or _fallback(linked, i)
        if rounds[i] > HYPERCUBE_ROUNDS or not new:
            new = _escalate(linked, i)
            report.escalations += 1
        if not new:  # cannot happen: with the set unpublished its width is what _Need asks
            raise RuntimeError(f"disclosure: figure {figs[i].key} cannot be protected")
        for j in new:
            figs[j].suppressed = True
            report.suppressed_complementary += 1
            pending.append(j)
    # A complementary suppression the published figures determine exactly (often a base
    # equal to a cohort total) hides nothing: publishing it adds an equation the feasible
    # set already satisfies, so every interval, and so every check above, stays the same.
    for j, f in enumerate(figs):
        if f.suppressed and not f.fixed and f.cell is not None and not f.cell.primary:
            low, high = solver.interval(j)
            if high - low < EPS:
                f.suppressed = False
                report.suppressed_complementary -= 1
    report.lp_solves += solver.solves + need.full.solves


def _domains_follow_margins(analysis: Analysis) -> None:
    """A cross-tab column whose domain size the breakdown's own table suppresses is not
    published either (its base would publish the size)."""
    hidden = set()
    for t in analysis.tables:
        if t.by is None and t.group in BREAKDOWNS and t.variable in BREAKDOWNS[t.group]:
            spec = next(s for s in analysis.specs[t.group] if s.id == t.variable)
            for r, row in enumerate(t.cells):
                cell = row[0]
                if cell is not None and cell.suppressed and not cell.base:
                    hidden.add((f"by:{t.group}:{t.variable}", spec.rows[r][1][0]))
    for t in analysis.tables:
        for cell in t.all_cells() if t.by is not None else ():
            if any((col, codes[0]) in hidden for col, codes in cell.where):
                cell.suppressed = True


def apply(analysis: Analysis, threshold: int) -> Report:
    """Suppress (primary and complementary) every table of the analysis, in place."""
    report = Report(threshold)
    for t in analysis.tables:
        for cell in t.all_cells():
            cell.suppressed = cell.primary = is_primary(cell, threshold)
    report.suppressed_primary = len(
        {c.key for t in analysis.tables for c in t.all_cells() if c.primary}
    )
    margins_done = False
    for name, tables in linked_sets(analysis):
        family, group = name.split("@", 1)
        if family not in BREAKDOWN_VARS and not margins_done:
            _domains_follow_margins(analysis)  # the breakdowns' own sets come first
            margins_done = True
        linked = build_linked(analysis, tables, group)
        report.sets += 1
        if any(f.suppressed for f in linked.figures):
            protect_set(linked, threshold, report)
        for f in linked.figures:
            if f.cell is not None:
                f.cell.suppressed = f.suppressed
    return report


def audit(analysis: Analysis, threshold: int, fast: bool = False) -> Report:
    """Check the published tables as they stand: nothing published rests on fewer than T
    respondents, and every suppressed figure's LP interval (scipy linprog; highspy when
    ``fast``) is at least T wide, or as wide as the fixed figures alone leave it."""
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
        solver, need = Solver(linked), _Need(linked, threshold)
        for i, f in enumerate(linked.figures):
            if not f.suppressed:
                continue
            low, high = solver.interval(i) if fast else interval(linked, i)
            report.lp_solves += 1
            if high - low < threshold - EPS and high - low < need(i) - EPS:
                report.violations.append(f"{name}: {f.key} in [{low:g}, {high:g}]")
        report.lp_solves += solver.solves + need.full.solves
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
