"""The questionnaire schema: one typed definition drives web form, paper, keying, codebook, exports.

Definitions are YAML files validated against these models (pydantic). Shared blocks (the K6,
the ideation items, scales) live in modules that a form pulls in with ``use: NAME``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

ID = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
Language = Literal["ja", "en"]
ItemType = Literal["single", "multi", "grid", "integer", "text", "longtext", "select"]

# Standard missing-value codes, the same in every export.
MISSING: dict[int, tuple[str, str]] = {
    -1: ("非該当", "not applicable (skipped by the logic)"),
    -6: ("判読不能", "illegible (paper)"),
    -7: ("答えたくない", "prefer not to answer"),
    -8: ("無効", "invalid (e.g. several marks on a single-choice item)"),
    -9: ("無回答", "no answer"),
}
NOT_APPLICABLE, ILLEGIBLE, REFUSED, INVALID, NO_ANSWER = -1, -6, -7, -8, -9


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A label: Japanese, with an optional English text."""

    ja: str = Field(min_length=1)
    en: str | None = None


def _text(value: Any) -> Any:
    return {"ja": value} if isinstance(value, str) else value


# A label may be written as a plain string (Japanese only) or as {ja: ..., en: ...}.
Label = Annotated[Text, BeforeValidator(_text)]


class Option(Strict):
    code: int = Field(ge=0, le=999)
    label: Label
    exclusive: bool = False  # in a multiple choice, e.g. 「特にない」: excludes every other pick


class Condition(Strict):
    """``show_if``: an earlier item answered with one of the codes (any pick, for multiple choice).

    ``all``/``any`` combine conditions.
    """

    item: str | None = None
    in_: list[int] | None = Field(default=None, alias="in")
    all: list[Condition] | None = None
    any: list[Condition] | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_kind(self) -> Condition:
        kinds = [self.item is not None, self.all is not None, self.any is not None]
        if sum(kinds) != 1 or (self.item is not None and not self.in_):
            raise ValueError("a condition is {item, in: [codes]} or {all: [...]} or {any: [...]}")
        return self

    def items(self) -> list[str]:
        if self.item is not None:
            return [self.item]
        return [i for c in (self.all or self.any or []) for i in c.items()]


class Row(Strict):
    id: ID
    text: Label


class Item(Strict):
    id: ID
    type: ItemType
    text: Label
    note: Label | None = None
    options: list[Option] | None = None
    scale: str | None = None  # a named scale instead of inline options (single, grid)
    rows: list[Row] | None = None  # grid
    max_picks: int | None = Field(default=None, ge=1)  # multi
    min: int | None = None  # integer
    max: int | None = None
    unit: Label | None = None
    max_length: int | None = Field(default=None, ge=1, le=4000)  # text, longtext
    sensitive: bool = False  # offers 「答えたくない」 (-7)
    show_if: Condition | None = None

    @model_validator(mode="after")
    def _fields_for_type(self) -> Item:
        t = self.type
        choice = self.options is not None or self.scale is not None
        if t in ("single", "multi", "select") and not choice:
            raise ValueError(f"a {t} item needs options (or a scale)")
        if t == "grid" and (not self.rows or not choice):
            raise ValueError("a grid needs rows and a scale (or options)")
        if t == "integer" and (self.min is None or self.max is None or self.min >= self.max):
            raise ValueError("an integer item needs min < max")
        if t == "integer" and (self.min is not None and self.min < 0):
            raise ValueError("integer answers are non-negative (negative codes mean missing)")
        if t in ("text", "longtext") and self.max_length is None:
            raise ValueError(f"a {t} item needs max_length")
        picks, options = self.max_picks, self.options
        if t == "multi" and picks is not None and options is not None and picks > len(options):
            raise ValueError("max_picks is larger than the number of options")
        # A field that does not apply to the type is a mistake, not a harmless extra.
        misplaced = [
            name
            for name, applies in (
                ("options", t in ("single", "multi", "select", "grid")),
                ("scale", t in ("single", "multi", "select", "grid")),
                ("rows", t == "grid"),
                ("max_picks", t == "multi"),
                ("min", t == "integer"),
                ("max", t == "integer"),
                ("unit", t == "integer"),
                ("max_length", t in ("text", "longtext")),
            )
            if getattr(self, name) is not None and not applies
        ]
        if misplaced:
            raise ValueError(f"{', '.join(misplaced)} do(es) not apply to a {t} item")
        return self


class Use(Strict):
    use: str


def _entry_kind(value: Any) -> str:
    # A section entry with a ``use`` key is a module reference, anything else an item: so a
    # broken item is reported as an item, without the noise of the other alternative.
    if isinstance(value, dict):
        return "use" if "use" in value else "item"
    return "use" if isinstance(value, Use) else "item"


Entry = Annotated[
    Annotated[Item, Tag("item")] | Annotated[Use, Tag("use")], Discriminator(_entry_kind)
]


class Section(Strict):
    id: ID
    title: Label
    items: list[Entry] = Field(min_length=1)
    crisis_after: bool = False  # the crisis lines shown prominently after this section


class Band(Strict):
    min: int
    max: int | None = None  # open-ended
    code: int
    label: Label


class Case(Strict):
    when: Condition
    value: int


class Derived(Strict):
    """A derived variable, declared next to the items it comes from.

    - ``sum``: the sum of ``items`` (their codes are the scores); missing if any is missing.
    - ``bands``: ``source`` cut into ``bands``; ``missing_code`` with ``missing_label`` if missing.
    - ``threshold``: 1 if ``source`` >= ``min``, 0 below, missing if missing.
    - ``cases``: the ``value`` of the first case whose condition holds, else ``otherwise``
      (missing when that is absent).
    """

    id: ID
    label: Label
    kind: Literal["sum", "bands", "threshold", "cases"]
    items: list[str] | None = None
    source: str | None = None
    bands: list[Band] | None = None
    missing_code: int | None = None
    missing_label: Label | None = None
    min: int | None = None
    cases: list[Case] | None = None
    otherwise: int | None = None
    value_labels: dict[int, Label] | None = None

    @model_validator(mode="after")
    def _fields_for_kind(self) -> Derived:
        need = {
            "sum": ("items",),
            "bands": ("source", "bands"),
            "threshold": ("source", "min"),
            "cases": ("cases",),
        }[self.kind]
        missing = [f for f in need if getattr(self, f) is None]
        if missing:
            raise ValueError(f"a {self.kind} variable needs {', '.join(missing)}")
        return self


class Module(Strict):
    """Shared blocks: named scales, items and derived variables."""

    scales: dict[str, list[Option]] = Field(default_factory=dict)
    items: list[Item] = Field(default_factory=list)
    derived: list[Derived] = Field(default_factory=list)


class FormFile(Strict):
    id: ID
    version: int = Field(ge=1)
    cohort: str
    title: Label
    languages: list[Language] = Field(default_factory=lambda: list[Language](["ja"]))
    padded_size: int = Field(gt=0)
    intro: Label | None = None
    sections: list[Section] = Field(min_length=1)
    derived: list[Derived] = Field(default_factory=list)
