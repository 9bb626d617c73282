"""The combinations of answers a cohort's form allows, as the attacker's unknowns (used by
survey.analysis.linked): skip logic applied and derived variables computed as
survey.forms.logic does, so a combination the form cannot produce is never an unknown and
one it can produce is, whether or not the data hold it."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from survey.analysis.tables import Analysis
from survey.analysis.variables import Spec, analysis_columns
from survey.forms.logic import _value, visible
from survey.forms.schema import REFUSED

MAX_COMBINATIONS = 20_000  # a guard: the forms' families enumerate to a few dozen


def enumerate_atoms(analysis: Analysis, cohort: str, core: list[Spec]) -> pd.DataFrame:
    """Every combination of the core columns the cohort's form allows (analysis codes)."""
    form = analysis.forms[cohort]
    items = {v.id: v for v in form.variables()}
    derived = {d.id: d for d in form.derived}
    roots: dict[str, list[int]] = {}

    def add_root(name: str) -> None:
        if name in roots:
            return
        if name in items:
            var = items[name]
            item = var.item
            if item.type == "integer":
                assert item.min is not None and item.max is not None
                codes = list(range(item.min, item.max + 1))
            else:
                codes = [o.code for o in var.options]
            roots[name] = codes + [-9] + ([REFUSED] if item.sensitive else [])
            if item.show_if is not None:
                for parent in item.show_if.items():
                    add_root(parent)
        elif name in derived:
            d = derived[name]
            if d.kind == "sum":  # its total ranges over the sums of its items' scores
                lo = hi = 0
                for part in d.items or ():
                    opts = [o.code for o in items[part].options]
                    lo, hi = lo + min(opts), hi + max(opts)
                miss = d.missing_code if d.missing_code is not None else -9
                roots[name] = [*list(range(lo, hi + 1)), miss]
            else:
                for parent in ([d.source] if d.source else []) + [
                    i for c in d.cases or () for i in c.when.items()
                ]:
                    add_root(parent)

    for s in core:
        add_root(s.id)
    names = list(roots)
    if int(np.prod([len(roots[n]) for n in names], dtype=np.float64)) > MAX_COMBINATIONS:
        raise RuntimeError(f"linked set of {cohort} too large to enumerate: {names}")
    order = [v.id for v in form.variables()]
    records = []
    for combo in itertools.product(*(roots[n] for n in names)):
        answers: dict[str, Any] = dict(zip(names, combo, strict=True))
        for vid in order:  # the skip logic, in the form's order (as validate applies it)
            if vid in answers and not visible(items[vid].item, answers):
                answers[vid] = -1
        for d in form.derived:
            if d.id not in roots:
                answers[d.id] = _value(d, answers)
        records.append(answers)
    raw = pd.DataFrame(records)
    raw["cohort"] = cohort
    out = {}
    for s in core:
        if s.id not in raw.columns:
            continue
        for name, values in analysis_columns(raw, s).items():
            out[name] = values
    return pd.DataFrame(out)


def visible_atoms(
    spec_item: Any, atoms: pd.DataFrame, cohort: str, core: list[Spec]
) -> np.ndarray | None:
    """Whether a multiple choice's show-if holds, per atom or respondent; None if one of its
    parents is not a column here (then the link is not modelled: less known, never more)."""
    if spec_item.show_if is None:
        return np.ones(len(atoms), dtype=bool)
    parents = spec_item.show_if.items()
    by_id = {s.id: s for s in core}
    if any(p not in by_id or f"{cohort}:{p}" not in atoms.columns for p in parents):
        return None
    values = atoms[[f"{cohort}:{p}" for p in parents]].to_numpy()
    if not len(values):
        return np.zeros(0, dtype=bool)
    # The show-if is judged once per distinct combination of its parents' answers (a few
    # dozen), not once per respondent.
    distinct, inverse = np.unique(values, axis=0, return_inverse=True)
    judged = np.zeros(len(distinct), dtype=bool)
    for k, row in enumerate(distinct):
        answers = {
            p: (by_id[p].rows[int(v)][1][0] if v >= 0 else -1)
            for p, v in zip(parents, row, strict=True)
        }
        judged[k] = visible(spec_item, answers)
    return np.asarray(judged[inverse.ravel()], dtype=bool)
