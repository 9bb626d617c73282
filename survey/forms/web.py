"""The web form's view of a definition: what the collector's templates render.

The templates and the browser's skip logic read only this view, so the web form asks exactly
what the definition says (the same definition drives paper, keying and the codebook). Each
item is rendered by its type's template (:attr:`survey.forms.items.ItemKind.web_template`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from survey.cohorts import STUDENT_COHORTS
from survey.forms.items import kind
from survey.forms.loader import Form
from survey.forms.schema import MISSING, REFUSED, Item, Text

REFUSAL = Text(ja=MISSING[REFUSED][0], en="Prefer not to answer")


@dataclass(frozen=True, slots=True)
class Choice:
    value: int
    label: Text
    exclusive: bool = False


@dataclass(frozen=True, slots=True)
class Row:
    id: str
    text: Text


@dataclass(frozen=True, slots=True)
class ItemView:
    id: str
    type: str
    text: Text
    note: Text | None
    instruction: Text | None  # how to answer, said by the item type (once)
    unit: Text | None
    choices: tuple[Choice, ...]
    rows: tuple[Row, ...]
    min: int | None
    max: int | None
    max_length: int | None
    max_picks: int | None
    show_if: str | None  # the condition as JSON, evaluated by the browser
    variables: tuple[str, ...]  # the names its answers are sent under
    template: str  # the template rendering it (its type's)


@dataclass(frozen=True, slots=True)
class SectionView:
    id: str
    title: Text
    items: tuple[ItemView, ...]
    crisis_after: bool


@dataclass(frozen=True, slots=True)
class FormView:
    id: str
    version: int
    cohort: str
    title: Text
    intro: Text | None
    bilingual: bool
    padded_size: int
    sections: tuple[SectionView, ...]


def _choices(item: Item) -> tuple[Choice, ...]:
    out = [Choice(o.code, o.label, o.exclusive) for o in item.options or ()]
    if item.sensitive:
        # 「答えたくない」 is an answer of its own (-7), never the same as leaving it blank (-9).
        out.append(Choice(REFUSED, REFUSAL, exclusive=True))
    return tuple(out)


def item_view(item: Item, plain: bool = False) -> ItemView:
    """The item as the templates render it; ``plain``: in the students' wording."""
    condition = None
    if item.show_if is not None:
        condition = json.dumps(
            item.show_if.model_dump(by_alias=True, exclude_none=True), separators=(",", ":")
        )
    return ItemView(
        id=item.id,
        type=item.type,
        text=item.text,
        note=item.note,
        instruction=kind(item).instruction(item, plain),
        unit=item.unit,
        choices=_choices(item),
        rows=tuple(Row(r.id, r.text) for r in item.rows or ()),
        min=item.min,
        max=item.max,
        max_length=item.max_length,
        max_picks=item.max_picks,
        show_if=condition,
        variables=tuple(v.id for v in kind(item).variables(item)),
        template=kind(item).web_template,
    )


def form_view(form: Form) -> FormView:
    src = form.source
    plain = form.cohort in STUDENT_COHORTS
    return FormView(
        id=form.id,
        version=form.version,
        cohort=form.cohort,
        title=src.title,
        intro=src.intro,
        bilingual="en" in src.languages,
        padded_size=form.padded_size,
        sections=tuple(
            SectionView(
                s.id,
                s.title,
                tuple(item_view(i, plain) for i in s.items if isinstance(i, Item)),
                s.crisis_after,
            )
            for s in form.sections
        ),
    )
