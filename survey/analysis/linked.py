"""The attacker's linear model of one linked set of tables (used by survey.analysis.disclosure).

Every figure of the set (a cell, a base, a fixed margin or cohort total) is a linear function
of non-negative unknowns; the published figures are equations, the form's logic adds the
structural (in)equalities an attacker also knows. The LP interval of a suppressed figure is
what the attacker can derive (Fischetti & Salazar's attacker model).

*Core* unknowns: per cohort, one count per combination of the set's single-choice and derived
columns that the form's logic allows, crossed with every code (and "none") of each breakdown.
The combinations are enumerated from the form (skip logic applied, derived variables computed
as survey.forms.logic does), together with any combination the data hold: a combination absent
from the data is an unknown >= 0, never a known zero (only a published 0 makes it known).

*Multiple choice* unknowns, per cohort, item and breakdown cell d: y_r (picked row r) for each
non-exclusive option, e_j for each exclusive row (「特にない」, 答えたくない, 無回答), m (those
shown who picked options), o (shown-if true but not shown, only if the data hold such a row,
e.g. an older form). The exact projection of the pick patterns onto row counts is
``y_r <= m``, ``m <= sum y_r`` (at least one pick), ``sum y_r <= max_picks * m``; and
``m + sum e_j + o`` equals the core count of d where the item's show-if holds: the follow-up's
base is the parent's cell (the show-if link). A constraint the true counts break (data from a
form that did not enforce it) is left out, so the true counts are always feasible.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

from survey.analysis.atoms import enumerate_atoms, visible_atoms
from survey.analysis.study import POOLS
from survey.analysis.tables import Analysis, Cell, Table
from survey.analysis.variables import BREAKDOWNS, OUTSIDE, Spec
from survey.cohorts import COHORTS, GUARDIAN_COHORTS

Coef = dict[int, float]


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
    a: sparse.csr_matrix  # figures x unknowns
    eq: sparse.csr_matrix  # structural equalities: eq @ z == 0
    ub: sparse.csr_matrix  # structural inequalities: ub @ z <= 0
    truth: np.ndarray  # the true value of every unknown
    grids: list[np.ndarray]  # per table: figure index per (row, col), -1 where none

    def published(self, fixed_only: bool = False) -> list[int]:
        return [
            j
            for j, f in enumerate(self.figures)
            if not f.suppressed and (f.fixed or not fixed_only)
        ]


def group_of(cohort: str) -> str:
    return cohort if cohort in GUARDIAN_COHORTS else "persons"


def _fixed(analysis: Analysis, group: str, tables: list[Table]) -> list[Figure]:
    """Cohort totals (exempt tables publish them) and the breakdowns' frequency cells."""
    out = []
    cohorts = sorted({t.group for t in tables if t.group in COHORTS})
    if group == "persons":
        cohorts = [c for c in COHORTS if group_of(c) == "persons"]
    for c in cohorts:
        idx = COHORTS.index(c)
        n = len(analysis.positions(idx))
        if n:
            out.append(Figure(("total", c), (("cohort", (idx,)),), n, None, True, False, np.inf))
    own = {t.variable for t in tables}
    for t in analysis.tables:
        if t.by is not None or t.group not in cohorts or t.variable not in BREAKDOWNS[t.group]:
            continue
        if t.variable in own:
            continue
        spec = next(s for s in analysis.specs[t.group] if s.id == t.variable)
        idx = COHORTS.index(t.group)
        column = f"by:{t.group}:{t.variable}"
        missing = [x[0] for x, (_, codes) in zip(t.cells, spec.rows, strict=False) if codes[0] < 0]
        hidden_codes = hidden_margins(t, spec)
        for r, row in enumerate(t.cells):
            cell = row[0]
            if cell is None or cell.base:
                continue  # the base is the cohort total, already fixed
            code = spec.rows[r][1][0]
            if code < 0 and r != len(spec.rows) - 1:
                continue  # 答えたくない and 無回答 together: the last row stands for both
            # On the breakdown column the item sets use: an option, or not one (無回答 etc.).
            where = (("cohort", (idx,)), (column, (code,) if code >= 0 else (OUTSIDE,)))
            n = cell.n if code >= 0 else sum(c.n for c in missing if c is not None)
            hidden = (code if code >= 0 else OUTSIDE) in hidden_codes
            out.append(Figure(("margin", cell.key), where, n, None, True, hidden, np.inf))
    return out + _joint(analysis, tables, out)


def hidden_margins(t: Table, spec: Spec) -> set[int]:
    """The codes of a breakdown (its frequency table ``t``, suppressed) whose count the
    published figures do not tell: each suppressed option, and OUTSIDE (those who gave none:
    答えたくない and 無回答 together, the 不詳 column of the cross-tabs) when one of those
    rows is hidden and an option is too; with every option published, the cohort total
    minus the options gives their sum whatever is hidden."""
    rows = [
        (codes[0], row[0])
        for row, (_, codes) in zip(t.cells, spec.rows, strict=False)
        if row[0] is not None and not row[0].base
    ]
    out = {code for code, c in rows if code >= 0 and c.suppressed}
    if out and any(c.suppressed for code, c in rows if code < 0):
        out.add(OUTSIDE)
    return out


def _joint(analysis: Analysis, tables: list[Table], margins: list[Figure]) -> list[Figure]:
    """What other linked sets could tell about a cohort's breakdowns together (the general
    cohort's sex by age band): every set's cross-tabs constrain that joint distribution,
    which no table publishes, so an attacker combining sets narrows it. Modelled
    conservatively, and so without auditing sets together: the attacker is given the true
    joint counts, codes whose margin is suppressed merged (their total is known anyway;
    their split is not, and no other set's published figure tells one from another: their
    cross-tab columns are unpublished). More known only narrows intervals, so a set that
    passes with this passes against any combination of sets."""
    out = []
    for cohort in sorted({t.group for t in tables if t.by is not None and t.group in COHORTS}):
        idx = COHORTS.index(cohort)
        columns = [f"by:{cohort}:{b}" for b in BREAKDOWNS[cohort]]
        if len(columns) < 2:
            continue
        groups = []
        rows = analysis.rows_of(idx, columns)
        for column in columns:
            codes = sorted({int(v) for v in np.unique(rows[column].to_numpy())})
            codes = sorted({*codes, *(x[0] for f in margins for c, x in f.where if c == column)})
            hidden = {x[0] for f in margins if f.suppressed for c, x in f.where if c == column}
            shown = [(c,) for c in codes if c not in hidden]
            groups.append(shown + ([tuple(sorted(hidden))] if hidden else []))
        # Each respondent's combination of groups, counted in one pass (-1: in none).
        combined = np.zeros(len(rows), dtype=np.int64)
        for column, options in zip(columns, groups, strict=True):
            member = {v: g for g, group in enumerate(options) for v in group}
            distinct, inverse = np.unique(rows[column].to_numpy(), return_inverse=True)
            lut = np.array([member.get(int(v), -1) for v in distinct], dtype=np.int64)
            g = lut[inverse.ravel()]
            combined = np.where((combined >= 0) & (g >= 0), combined * len(options) + g, -1)
        sizes = [len(options) for options in groups]
        counts = np.bincount(combined[combined >= 0], minlength=int(np.prod(sizes)))
        for flat, combo in enumerate(itertools.product(*groups)):
            where = (("cohort", (idx,)), *zip(columns, combo, strict=True))
            key = ("joint", cohort, combo)
            out.append(Figure(key, where, int(counts[flat]), None, True, False, np.inf))
    return out


def _cohorts_of(prefix: str) -> tuple[str, ...]:
    return tuple(POOLS[prefix]) if prefix in POOLS else (prefix,)


def _by_values(analysis: Analysis, column: str, observed: np.ndarray) -> list[int]:
    """Every code a breakdown column can hold: the options and "none" (OUTSIDE)."""
    _, cohort, var = column.split(":", 2)
    spec = next(s for s in analysis.specs[cohort] if s.id == var)
    return sorted({*spec.options, OUTSIDE, *observed.tolist()})


@dataclass(slots=True)
class _Block:
    """The multiple-choice unknowns of one (cohort, item, breakdown cell)."""

    cohort: str
    item: str
    d: dict[str, int]
    rows: dict[int, int]  # row index -> unknown (y_r or e_j)
    exclusive: set[int]
    m: int
    o: int | None


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
    frame = analysis.frame
    columns = sorted({col for f in figures for col, _ in f.where} | {"cohort"})
    multi_cols = [c for c in columns if "#" in c]
    core_cols = [c for c in columns if "#" not in c]
    by_cols = [c for c in core_cols if c.startswith("by:")]
    var_cols = [c for c in core_cols if c not in by_cols and c != "cohort"]
    core_ids = {c.split(":", 1)[1] for c in var_cols}
    multi_ids = sorted({c.split(":", 1)[1].split("#")[0] for c in multi_cols})
    blocks_core: list[pd.DataFrame] = []
    multis: list[_Block] = []
    eq_rows: list[Coef] = []
    ub_rows: list[Coef] = []
    multi_truth: list[float] = []
    offset = 0
    pending_multi: list[tuple[str, Spec, pd.DataFrame, list[str]]] = []
    observed_sizes: list[pd.DataFrame] = []
    for cohort in COHORTS:
        idx = COHORTS.index(cohort)
        if group_of(cohort) != group or not len(analysis.positions(idx)):
            continue
        # The combinations the respondents hold, with their counts: one pass over the rows.
        observed = analysis.rows_of(idx, core_cols).value_counts(core_cols, sort=False)
        seen = observed.index.to_frame(index=False)
        observed_sizes.append(seen.assign(_n=observed.to_numpy()))
        core = [s for s in analysis.specs[cohort] if s.id in core_ids and s.kind == "single"]
        enum = enumerate_atoms(analysis, cohort, core)
        block = pd.DataFrame(index=range(len(enum)))
        for col in var_cols:
            prefix, name = col.split(":", 1)
            inside = cohort in _cohorts_of(prefix) and name in enum.columns
            block[col] = enum[name].to_numpy() if inside else OUTSIDE
        block = pd.concat([block, seen[var_cols]], ignore_index=True).drop_duplicates()
        if not var_cols:
            block = pd.DataFrame(index=[0])
        own = [b for b in by_cols if b.startswith(f"by:{cohort}:")]
        block = block.reset_index(drop=True)
        for b in own:
            values = _by_values(analysis, b, seen[b].unique())
            block = block.merge(pd.DataFrame({b: values}), how="cross")
        block["cohort"] = idx
        for b in by_cols:
            if b not in own:
                block[b] = OUTSIDE
        block = block[core_cols].reset_index(drop=True)
        block.index += offset
        for mid in multi_ids:
            spec = next((s for s in analysis.specs[cohort] if s.id == mid), None)
            if spec is not None and spec.kind == "multi" and f"{cohort}:{mid}#0" in frame:
                pending_multi.append((cohort, spec, block, own))
        offset += len(block)
        blocks_core.append(block)
    atoms = pd.concat(blocks_core)
    sizes = pd.concat(observed_sizes, ignore_index=True)
    counts = atoms.merge(sizes, on=core_cols, how="left")["_n"].fillna(0).to_numpy(np.float64)
    n_core = len(atoms)
    for cohort, spec, block, own in pending_multi:
        _multi(analysis, cohort, spec, block, own, n_core, multis, eq_rows, ub_rows, multi_truth)
    truth = np.concatenate([counts, np.asarray(multi_truth, dtype=np.float64)])
    n = len(truth)
    atom_columns = {c: atoms[c].to_numpy() for c in atoms.columns}
    coefs = [_coef(f, atoms.index.to_numpy(), atom_columns, multis) for f in figures]
    eq = _matrix(eq_rows, n)
    ub = _matrix(ub_rows, n)
    # Only what the true counts satisfy: the data are always a solution.
    keep_eq = np.abs(eq @ truth) < 1e-9
    keep_ub = ub @ truth <= 1e-9
    return Linked(figures, _matrix(coefs, n), eq[keep_eq], ub[keep_ub], truth, grids)


def _matrix(rows: Sequence[Coef], n: int) -> sparse.csr_matrix:
    r = [i for i, row in enumerate(rows) for _ in row]
    c = [j for row in rows for j in row]
    v = [x for row in rows for x in row.values()]
    return sparse.csr_matrix((v, (r, c)), shape=(len(rows), n))


def _multi(
    analysis: Analysis,
    cohort: str,
    spec: Spec,
    block: pd.DataFrame,
    own: list[str],
    n_core: int,
    multis: list[_Block],
    eq_rows: list[Coef],
    ub_rows: list[Coef],
    truth: list[float],
) -> None:
    """The unknowns and structural constraints of one multiple choice in one cohort."""
    form = analysis.forms[cohort]
    var = next(v for v in form.variables() if v.id == spec.id)
    item = var.item
    core = [s for s in analysis.specs[cohort] if s.kind == "single"]
    flagged = {o.code for o in var.options if o.exclusive}
    exclusive = {r for r, (_, codes) in enumerate(spec.rows) if codes[0] < 0 or codes[0] in flagged}
    columns = [f"{cohort}:{spec.id}#{r}" for r in range(len(spec.rows))]
    parents = [c for c in block.columns if c.startswith(f"{cohort}:") or c.startswith("by:")]
    rows = analysis.rows_of(COHORTS.index(cohort), [*columns, *parents])
    picked = np.stack([rows[c].to_numpy() == 1 for c in columns], axis=1)
    shown = rows[f"{cohort}:{spec.id}#0"].to_numpy() != OUTSIDE
    vis_atoms = visible_atoms(item, block, cohort, core)
    vis_resp = visible_atoms(item, rows, cohort, core) if vis_atoms is not None else None
    if vis_atoms is None or vis_resp is None or (shown & ~vis_resp).any():
        # No parent column, or shown without its show-if (an older form): no link.
        vis_resp = np.ones(len(rows), dtype=bool)
        vis_atoms = np.ones(len(block), dtype=bool)
    slack = bool((vis_resp & ~shown).any())
    with_excl = picked[:, sorted(exclusive)].any(axis=1)
    base = n_core + len(truth)
    values = [sorted({*block[b].tolist()}) for b in own]
    resp_by = rows[own].to_numpy() if own else np.zeros((len(rows), 0), dtype=np.int64)
    atom_by = block[own].to_numpy() if own else np.zeros((len(block), 0), dtype=np.int64)
    for d in itertools.product(*values):
        at = np.all(resp_by == np.asarray(d, dtype=np.int64), axis=1)
        at_atoms = np.all(atom_by == np.asarray(d, dtype=np.int64), axis=1)
        ids: dict[int, int] = {}
        for r in range(len(spec.rows)):
            ids[r] = base
            truth.append(float((at & picked[:, r]).sum()))
            base += 1
        m = base
        truth.append(float((at & shown & ~with_excl).sum()))
        base += 1
        o = None
        if slack:
            o = base
            truth.append(float((at & vis_resp & ~shown).sum()))
            base += 1
        multis.append(_Block(cohort, spec.id, dict(zip(own, d, strict=True)), ids, exclusive, m, o))
        link: Coef = {m: 1.0, **{ids[j]: 1.0 for j in exclusive}}
        if o is not None:
            link[o] = 1.0
        for a in block.index[at_atoms & vis_atoms]:
            link[int(a)] = -1.0
        eq_rows.append(link)  # the follow-up's base is its parent's cell (the show-if link)
        plain = [ids[r] for r in range(len(spec.rows)) if r not in exclusive]
        for y in plain:
            ub_rows.append({y: 1.0, m: -1.0})  # no option more often than option pickers
        if plain:
            ub_rows.append({m: 1.0, **{y: -1.0 for y in plain}})  # each picks at least one
            if item.max_picks is not None:
                ub_rows.append({**{y: 1.0 for y in plain}, m: -float(item.max_picks)})


def _coef(
    f: Figure, atom_ids: np.ndarray, atoms: dict[str, np.ndarray], multis: list[_Block]
) -> Coef:
    multi = [(col, codes) for col, codes in f.where if "#" in col]
    rest = [(col, codes) for col, codes in f.where if "#" not in col]
    if not multi:
        mask = np.ones(len(atom_ids), dtype=bool)
        for col, codes in rest:
            mask &= np.isin(atoms[col], codes)
        return dict.fromkeys(atom_ids[mask].tolist(), 1.0)
    ((col, codes),) = multi
    prefix, name = col.split(":", 1)
    item, r = name.split("#")
    out: Coef = {}
    for b in multis:
        if b.item != item or b.cohort not in _cohorts_of(prefix):
            continue
        idx = COHORTS.index(b.cohort)
        if not all((idx if c == "cohort" else b.d.get(c, OUTSIDE)) in cs for c, cs in rest):
            continue
        if set(codes) == {0, 1}:  # the base: those shown the item
            out[b.m] = 1.0
            out.update({b.rows[j]: 1.0 for j in b.exclusive})
        elif tuple(codes) == (1,):
            out[b.rows[int(r)]] = 1.0
        else:
            raise ValueError(f"unexpected figure condition {col} {codes}")
    return out
