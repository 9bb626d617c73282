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

Method: cell by cell, the LP relaxation of Fischetti & Salazar's model (the attacker model
and the optimal method of tau-Argus and sdcTable, solved one sensitive cell at a time as
their heuristics do), audited by the same attacker LP. For each suppressed figure whose
interval is too narrow, the protection LP (lp.Perturb) asks for a table consistent with the
fixed figures and the form's logic in which that figure lies a full required width from
the far end of its current interval, deviating from the published figures at the least
weighted cost (weight: the figure's count + 1 per unit, tenfold for a base; an already
suppressed figure deviates free); the figures that deviate are suppressed, which makes that
table one the attacker cannot exclude. Both directions are tried and the cheaper taken. The
figure is audited again and every new suppression audited in turn, until all pass. The LP
sees every linked table at once (a cell's partners may sit in another table: the K6 band
and the 10+/13+ headlines, a follow-up's base), so only the cells the rule needs are
hidden, not rectangles chosen table by table. Last, a complement a later one made
redundant is published again if every suppressed figure still passes (sets of up to
PRUNE_MAX suppressions; the check is quadratic).

Fallback (what makes the guarantee unconditional, reached only on numerical trouble): after
ROUNDS moves the figure still fails, escalate: suppress its whole rows and columns, then its
whole tables, then every table of the linked set. An unpublished set leaves the attacker
only the fixed figures, so the last stage always passes. Adding suppressions only enlarges
the attacker's feasible set, so figures that passed stay passing and the loop ends: after
:func:`apply`, :func:`audit` reports nothing, on any data.

Required width: T, or (if less) the width a figure has when only the fixed figures are
published; the fixed figures are the exempt tables' cohort totals and the breakdowns'
margins, which every linked set shares (the breakdowns' sets are protected first, and a
cross-tab column whose margin is suppressed is not published).

The attacker's linear model (survey.analysis.linked): every combination of answers the form's
logic allows is an unknown count >= 0, whether or not it occurs in the data; multiple choice
items are modelled by their row counts with the exact constraints of pick patterns, and a
show-if follow-up's base equals its parent's cell (both items are one linked set).

Linked sets share no cell (pools are in their cohorts' set; the summaries repeat cells of
one set each). What they share: the fixed figures (in every set's model), the suppressed
margins (whose split no other set's published figure tells: their cross-tab columns are
unpublished), and the general cohort's joint distribution of sex and age band, which every
set's cross-tabs constrain: the attacker of each set is given its true counts
(linked._joint), so combining sets cannot narrow what one set's audit passed.

Implicit domains: those who gave no option of a breakdown (無回答) are a cross-tab column of
their own, 不詳 (survey.analysis.tables), not left for an attacker to take as the total
column minus the published ones: their cells are figures like any other, under the same
rules and audit. The 不詳 column is hidden with its margin (linked.hidden_margins) when the
breakdown's table leaves that margin unknown.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Hashable
from dataclasses import dataclass, field

import pandas as pd

from survey.analysis.linked import Linked, build_linked, group_of, hidden_margins
from survey.analysis.lp import Perturb, Solver, interval
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


ROUNDS = 8  # LP moves per figure before the fallback escalates (numerical trouble only)
EPS = 1e-6


class _Need:
    """The protection a figure needs: T, or the whole width it has when only the fixed
    figures (exempt totals, breakdown margins) are published, if that is less: a domain of
    5 whose size the design table publishes cannot be made wider than 5 by hiding more."""

    def __init__(self, linked: Linked, threshold: int) -> None:
        self.full, self.threshold = Solver(linked, fixed_only=True), threshold
        self.cache: dict[int, tuple[float, float]] = {}

    def bounds(self, i: int) -> tuple[float, float]:
        if i not in self.cache:
            self.cache[i] = self.full.interval(i)
        return self.cache[i]

    def __call__(self, i: int) -> float:
        low, high = self.bounds(i)
        return min(float(self.threshold), high - low)


def _escalate(linked: Linked, i: int) -> list[int]:
    """The provably safe fallback, in stages: the figure's whole rows and columns (for a
    margin: every cell of its domain), then its whole tables, then the whole linked set (the
    set's figures all unpublished: the attacker knows only the fixed figures, which is the
    width _Need asks for). Only numerical trouble in the LP moves reaches it."""
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


def _passes(solver: Solver, need: _Need, i: int, threshold: int) -> bool:
    """The protection rule for one suppressed figure (need: only when T is not reached)."""
    if solver.wide(i, threshold - EPS):
        return True
    width = need(i)
    return width < threshold and solver.wide(i, width - EPS)


PRUNE_MAX = 80  # suppressed figures in a set up to which redundant complements are removed


def _prune(
    linked: Linked,
    solver: Solver,
    need: _Need,
    threshold: int,
    report: Report,
    cause: dict[int, list[int]],
) -> None:
    """Publish again each complementary suppression (dearest first) that a later one made
    redundant: kept published only if every suppressed figure still passes (the figures it
    was chosen for checked first, so a needed one is found out in a few solves). Checking
    every figure per trial is quadratic, so only sets of up to PRUNE_MAX suppressions."""
    figs = linked.figures
    hidden = [j for j, f in enumerate(figs) if f.suppressed]
    if len(hidden) > PRUNE_MAX:
        return
    chosen = [j for j in cause if not getattr(figs[j].cell, "primary", True)]
    for j in sorted(chosen, key=lambda j: -figs[j].cost):
        figs[j].suppressed = False
        order = [*cause[j], *(i for i, f in enumerate(figs) if f.suppressed)]
        if all(_passes(solver, need, i, threshold) for i in order):
            report.suppressed_complementary -= 1
        else:
            figs[j].suppressed = True


def protect_set(linked: Linked, threshold: int, report: Report) -> None:
    """Complementary suppression until every suppressed figure passes the audit: each
    figure whose LP interval is too narrow gets the cheapest suppressions the protection LP
    (lp.Perturb) finds, then is audited again; the new suppressions are audited in turn."""
    figs = linked.figures
    pending = deque(i for i, f in enumerate(figs) if f.suppressed)
    solver, need, perturb = Solver(linked), _Need(linked, threshold), Perturb(linked)
    rounds: dict[int, int] = defaultdict(int)
    cause: dict[int, list[int]] = defaultdict(list)  # the figures each complement protects
    while pending:
        i = pending[0]
        if _passes(solver, need, i, threshold):
            pending.popleft()
            continue
        rounds[i] += 1
        new = (perturb.protect(i, need(i)) or []) if rounds[i] <= ROUNDS else []
        if not new:
            new = _escalate(linked, i)
            report.escalations += 1
        if not new:  # cannot happen: with the set unpublished its width is what _Need asks
            raise RuntimeError(f"disclosure: figure {figs[i].key} cannot be protected")
        for j in new:
            figs[j].suppressed = True
            report.suppressed_complementary += 1
            pending.append(j)
            cause[j].append(i)
    _prune(linked, solver, need, threshold, report, cause)
    # A complementary suppression the published figures determine exactly (often a base
    # equal to a cohort total) hides nothing: publishing it adds an equation the feasible
    # set already satisfies, so every interval, and so every check above, stays the same.
    for j, f in enumerate(figs):
        cell = f.cell
        if f.suppressed and cell is not None and not cell.primary and not solver.wide(j, EPS):
            f.suppressed = False
            report.suppressed_complementary -= 1
    report.lp_solves += solver.solves + need.full.solves + perturb.solves


def _domains_follow_margins(analysis: Analysis) -> None:
    """A cross-tab column whose domain size the breakdown's own table suppresses is not
    published either (its base would publish the size)."""
    hidden = set()
    for t in analysis.tables:
        if t.by is None and t.group in BREAKDOWNS and t.variable in BREAKDOWNS[t.group]:
            spec = next(s for s in analysis.specs[t.group] if s.id == t.variable)
            column = f"by:{t.group}:{t.variable}"
            hidden |= {(column, code) for code in hidden_margins(t, spec)}
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
            if not f.suppressed or (fast and _passes(solver, need, i, threshold)):
                continue
            low, high = solver.interval(i) if fast else interval(linked, i)
            report.lp_solves += 1 if fast else 2
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
