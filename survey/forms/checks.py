"""Checks of a loaded form beyond its schema: respondent safety, English texts, derived
variables. Each appends ``file: id: reason`` problems; :func:`survey.forms.loader.check_form`
runs them all."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from survey.forms.schema import Condition, Item, Text

if TYPE_CHECKING:
    from survey.forms.loader import Form

# Items asking about suicidal thoughts: their section must show the crisis lines after it.
IDEATION_PREFIX = "ideation"
# Items that must offer 「答えたくない」 (sensitive): ideation and psychological distress.
SENSITIVE_PREFIXES = ("ideation", "k6")


def check_safety(form: Form, problems: list[str]) -> None:
    name = form.path.name
    for section in form.sections:
        asks = [
            i.id for i in section.items if isinstance(i, Item) and i.id.startswith(IDEATION_PREFIX)
        ]
        if asks and not section.crisis_after:
            problems.append(
                f"{name}: {section.id}: asks about suicidal ideation ({asks[0]}) but does not "
                "show the crisis lines after it (crisis_after: true)"
            )
    for item in form.items():
        if item.id.startswith(SENSITIVE_PREFIXES) and not item.sensitive:
            problems.append(f"{name}: {item.id}: must be sensitive (offer 答えたくない)")


def check_texts(form: Form, problems: list[str]) -> None:
    """Every text of a form that declares English has it: titles, intro, items, derived."""
    if "en" not in form.source.languages:
        return
    name = form.path.name
    where: list[tuple[str, Text | None]] = [("-", form.source.title), ("-", form.source.intro)]
    where += [(s.id, s.title) for s in form.sections]
    for item in form.items():
        texts = [item.text, item.note, item.unit]
        texts += [o.label for o in item.options or ()] + [r.text for r in item.rows or ()]
        where += [(item.id, t) for t in texts]
    for d in form.derived:
        texts = [d.label, d.missing_label, *(b.label for b in d.bands or ())]
        texts += list((d.value_labels or {}).values())
        where += [(d.id, t) for t in texts]
    seen: set[str] = set()
    for ident, text in where:
        if text is not None and text.en is None and ident not in seen:
            seen.add(ident)
            problems.append(f"{name}: {ident}: English text missing (form declares en)")


def _condition_codes(cond: Condition) -> list[tuple[str, list[int]]]:
    if cond.item is not None:
        return [(cond.item, list(cond.in_ or ()))]
    return [pair for c in (cond.all or cond.any or ()) for pair in _condition_codes(c)]


def check_derived(form: Form, problems: list[str]) -> None:
    """Sums over scored items, contiguous bands, case codes that exist."""
    name = form.path.name
    variables = {v.id: v for v in form.variables()}
    codes = {v.id: {o.code for o in v.options} for v in variables.values()}
    for d in form.derived:
        for ref in d.items or ():
            var = variables.get(ref)
            if d.kind == "sum" and var is not None and var.type not in ("single", "integer"):
                problems.append(f"{name}: {d.id}: sums {ref!r}, a {var.type} item (not a score)")
        if d.kind == "bands" and d.bands:
            ordered = sorted(d.bands, key=lambda b: b.min)
            for a, b in itertools.pairwise(ordered):
                if a.max is None or b.min != a.max + 1:
                    problems.append(
                        f"{name}: {d.id}: bands leave a gap or overlap between {a.min} and {b.min}"
                    )
        for case in d.cases or ():
            for ref, wanted in _condition_codes(case.when):
                if ref in codes and codes[ref] and not set(wanted) <= codes[ref]:
                    problems.append(f"{name}: {d.id}: codes {wanted} are not options of {ref}")
        if d.kind == "bands" and d.source in codes and codes[d.source]:
            problems.append(f"{name}: {d.id}: bands cut {d.source!r}, a choice item")
