"""What the tables show of each variable: its rows, its base, its family of linked tables.

Built from the current form of every cohort (labels are that form's wording); the values of
older versions share the columns. Free-text items are never here (invariant 6): the dataset
only holds whether they were answered, and no table shows even that.

Each variable's *rows* are its options in the form's order, then 答えたくない (-7) for a
sensitive item, then 無回答 (-9, with -8 invalid and -6 illegible): the base is everyone
shown the item (-1, skipped by the logic, and rows not on the cohort's form are outside it).
Derived variables (K6 band, the 10+/13+ headlines, ideation) count only valid values: a
prevalence is of those who answered (the K6 band's 不詳 is one of its own categories).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from survey.cohorts import COHORTS
from survey.forms.items.base import Variable
from survey.forms.loader import Form
from survey.forms.schema import Derived

TEXT_TYPES = ("text", "longtext")
REFUSED_LABEL = "答えたくない"
MISSING_LABEL = "無回答"
# The breakdowns of the cross-tabs: adults by sex and age band, students by grade,
# guardians by the child's stage (the list).
BREAKDOWNS: dict[str, tuple[str, ...]] = {
    "infant_guardian": ("child_stage",),
    "elementary_guardian": ("child_stage",),
    "junior_high": ("grade",),
    "high_school": ("grade",),
    "general": ("sex", "age_band"),
}
BREAKDOWN_VARS = frozenset(v for vs in BREAKDOWNS.values() for v in vs)
# Not a table of its own: the K6 total is shown through its bands and headlines.
NOT_TABLED = frozenset({"k6_total"})
OUTSIDE = -99  # a code for "not in the base" in the analysis columns (never a row)


@dataclass(slots=True)
class Spec:
    """One variable as the tables show it, in one cohort."""

    id: str
    cohort: str
    label: str
    kind: str  # "single" (rows add up to the base) or "multi" (% of respondents)
    rows: list[tuple[str, tuple[int, ...]]]  # row label, the codes it counts
    sensitive: bool
    derived: bool = False
    links: set[str] = field(default_factory=set)  # variables whose tables are linked

    @property
    def options(self) -> list[int]:
        return [codes[0] for _, codes in self.rows if codes[0] >= 0]


def _item_spec(var: Variable, cohort: str) -> Spec | None:
    item = var.item
    if item.type in TEXT_TYPES:
        return None
    if item.type == "integer":
        assert item.min is not None and item.max is not None
        unit = item.unit.ja if item.unit else ""
        options: list[tuple[str, tuple[int, ...]]] = [
            (f"{v}{unit}", (v,)) for v in range(item.min, item.max + 1)
        ]
    else:
        options = [(o.label.ja, (o.code,)) for o in var.options]
    rows = list(options)
    if item.sensitive:
        rows.append((REFUSED_LABEL, (-7,)))
    rows.append((MISSING_LABEL, (-9, -8, -6)))
    label = var.text.ja if var.id == item.id else f"{item.text.ja} — {var.text.ja}"
    kind = "multi" if item.type == "multi" else "single"
    links = set(item.show_if.items()) if item.show_if else set()
    return Spec(var.id, cohort, label, kind, rows, item.sensitive, links=links)


def _derived_spec(d: Derived, cohort: str) -> Spec | None:
    if d.id in NOT_TABLED or d.kind == "sum":
        return None
    if d.kind == "bands":
        assert d.bands is not None
        rows: list[tuple[str, tuple[int, ...]]] = [(b.label.ja, (b.code,)) for b in d.bands]
        if d.missing_code is not None:
            label = d.missing_label.ja if d.missing_label else "不詳"
            rows.append((label, (d.missing_code,)))
    elif d.kind == "threshold":
        rows = [("該当", (1,)), ("非該当", (0,))]
    else:
        labels = d.value_labels or {}
        values = sorted({c.value for c in d.cases or ()}, reverse=True)
        rows = [(labels[v].ja if v in labels else str(v), (v,)) for v in values]
    links: set[str] = set()
    if d.source:
        links.add(d.source)
    for case in d.cases or ():
        links.update(case.when.items())
    # Sensitive: every derived variable here measures distress or ideation.
    return Spec(d.id, cohort, d.label.ja, "single", rows, True, derived=True, links=links)


def specs(forms: dict[str, Form]) -> dict[str, list[Spec]]:
    """Per cohort (in the study's order), the variables its tables show."""
    out: dict[str, list[Spec]] = {}
    for cohort in COHORTS:
        form = forms.get(cohort)
        if form is None:
            continue
        found = [_item_spec(v, cohort) for v in form.variables()]
        found += [_derived_spec(d, cohort) for d in form.derived]
        out[cohort] = [s for s in found if s is not None]
    return out


def families(all_specs: dict[str, list[Spec]], forms: dict[str, Form]) -> dict[str, str]:
    """Variable -> its family: a derived variable and the single-choice variables it is
    computed from (the K6 band and headlines share the total; ideation prevalences share
    the ideation items), whose tables are sums of one another's cells, and an item shown
    only after an answer to another (its base is that answer's count) with that item:
    complementary suppression treats each family as one linked set. The K6 total is not a
    linear function of its rows' tables, so the rows stay apart."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    kinds = {s.id: s.kind for cohort_specs in all_specs.values() for s in cohort_specs}
    for cohort_specs in all_specs.values():
        for s in cohort_specs:
            find(s.id)
            if not s.derived:
                # A follow-up shown only after an answer to another item: its base is that
                # answer's cell, so both items' tables are one linked set (the show-if link).
                for other in s.links:
                    if other not in BREAKDOWN_VARS and other in kinds:
                        parent[find(other)] = find(s.id)
                continue
            for other in s.links:
                if other in BREAKDOWN_VARS or kinds.get(other, "single") != "single":
                    continue
                parent[find(other)] = find(s.id)
    return {v: find(v) for v in parent}


def _small(values: np.ndarray) -> np.ndarray:
    """Row indices and OUTSIDE fit in int8: 1,000,000 rows x hundreds of columns stay small."""
    return values.astype(np.int8) if values.size and values.max() < 127 else values


def analysis_columns(
    df: pd.DataFrame, spec: Spec, inside: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """The columns the tables and the audit use, for one cohort's variable.

    single: ``<id>`` holds the row index (0..k-1) or OUTSIDE; multi: ``<id>#<r>`` holds 1
    (this row), 0 (in the base, not this row) or OUTSIDE, for each row r. ``inside``: the
    cohort's rows, when the caller has them (each is then read once, not once per item).
    """
    if inside is None:
        inside = (df["cohort"] == spec.cohort).to_numpy(dtype=bool)
    rows = np.flatnonzero(inside)  # only the cohort's rows are read: the rest is OUTSIDE
    raw = df[spec.id].iloc[rows] if spec.id in df.columns else pd.Series(pd.NA, index=rows)
    if spec.kind == "single":
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        out = np.full(len(df), OUTSIDE, dtype=np.int64)
        for r, (_, codes) in enumerate(spec.rows):
            out[rows[np.isin(values, codes)]] = r
        return {spec.id: _small(out)}
    # Multiple choice: each distinct text of picks is split once (a few thousand of them),
    # not once per row.
    codes_of, texts = pd.factorize(raw.astype("string").fillna(""))
    picks = [set(str(t).split(" ")) for t in texts]
    blank = np.array([str(t) in ("", "-1") for t in texts] + [True], dtype=bool)
    shown = ~blank[codes_of]
    columns: dict[str, np.ndarray] = {}
    for r, (_, codes) in enumerate(spec.rows):
        wanted = {str(c) for c in codes}
        hit = np.array([bool(wanted & p) for p in picks] + [False], dtype=bool)[codes_of]
        out = np.full(len(df), OUTSIDE, dtype=np.int64)
        out[rows] = np.where(shown, hit.astype(np.int64), OUTSIDE)
        columns[f"{spec.id}#{r}"] = _small(out)
    return columns


def breakdown_column(df: pd.DataFrame, var: str, cohort: str, codes: list[int]) -> np.ndarray:
    """A breakdown's option code in one cohort, OUTSIDE elsewhere or where not an option."""
    if var not in df.columns:
        return np.full(len(df), OUTSIDE, dtype=np.int64)
    values = pd.to_numeric(df[var], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    ok = np.isin(values, codes) & (df["cohort"] == cohort).to_numpy(dtype=bool)
    return _small(np.where(ok, np.nan_to_num(values), OUTSIDE).astype(np.int64))
