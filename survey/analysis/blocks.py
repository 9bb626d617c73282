"""The items of a group (a cohort or a pool) by the form's sections, in form order: the
office's 集計 pages and the report's results chapter show them in this one order."""

from __future__ import annotations

from dataclasses import dataclass

from survey.analysis.study import POOLS
from survey.analysis.tables import Analysis, Table

# Derived variables (K6 score and band, ideation flags) belong to no section of the form.
OTHER_BLOCK = ("derived", "算出した指標")


@dataclass(slots=True)
class Item:
    """One variable of a group: its frequency table and its cross-tabs."""

    table: Table
    crosses: list[Table]


@dataclass(slots=True)
class Block:
    id: str
    title: str
    items: list[Item]


def blocks(analysis: Analysis, group: str) -> list[Block]:
    """The group's items by the form's sections (a pool: its first cohort's form), in form
    order; derived variables last."""
    form = analysis.forms.get(POOLS[group][0] if group in POOLS else group)
    where: dict[str, tuple[str, str]] = {}
    order: list[tuple[str, str]] = []
    for section in form.sections if form is not None else ():
        order.append((section.id, section.title.ja))
        for entry in section.items:
            ids = [getattr(entry, "id", "")] + [r.id for r in getattr(entry, "rows", None) or []]
            for i in ids:
                where[i] = (section.id, section.title.ja)
    found: dict[tuple[str, str], list[Item]] = {b: [] for b in [*order, OTHER_BLOCK]}
    items: dict[str, Item] = {}
    for t in analysis.tables:
        if t.group != group or t.kind == "summary":
            continue
        if t.by is None:
            items[t.variable] = Item(t, [])
            found[where.get(t.variable, OTHER_BLOCK)].append(items[t.variable])
    for t in analysis.tables:
        if t.group == group and t.by is not None and t.variable in items:
            items[t.variable].crosses.append(t)
    return [Block(b[0], b[1], its) for b, its in found.items() if its]
