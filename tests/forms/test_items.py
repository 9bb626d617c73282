"""Each item type in its one home: payload bound, validation into the missing codes, codebook
entry, template and demo answer (survey.forms.items)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.forms.codebook import form_codebook
from survey.forms.items import KINDS, kind
from survey.forms.items.base import JS_WHITESPACE, compact_json
from survey.forms.items.text import utf16_length
from survey.forms.loader import Variable
from survey.forms.schema import MISSING, ItemType
from tests.forms.samples import ALL_FORMS, EVERY_TYPE, variable

TEMPLATES = Path(__file__).resolve().parents[2] / "survey" / "web" / "collector" / "templates"
VARIABLES = [v for form in ALL_FORMS for v in form.variables()]
MISSING_GIVEN = {-6, -7, -8, -9}  # what a type's validation may store instead of an answer


def test_every_type_of_the_schema_has_one_home() -> None:
    assert sorted(KINDS) == sorted(get_args(ItemType))
    for name, item_kind in KINDS.items():
        assert item_kind.name == name
        assert (TEMPLATES / item_kind.web_template).is_file()
    assert {k.name for k in KINDS.values() if k.choice} == {"single", "multi", "select", "grid"}


def test_a_grid_has_one_variable_per_row_and_the_rest_one() -> None:
    assert [v.id for v in EVERY_TYPE.variables() if v.item.id == "grid"] == ["grid_a", "grid_b"]
    assert {v.type for v in EVERY_TYPE.variables() if v.item.id == "grid"} == {"single"}
    for item in EVERY_TYPE.items():
        if item.type != "grid":
            assert [v.id for v in kind(item).variables(item)] == [item.id]


# --- payload bound -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("var_id", "longest"),
    [
        ("gate", -1),  # a missing code is longer than any one-digit code
        ("picks", [1, 2]),  # max_picks of the longest codes
        ("every_pick", [1, 2]),
        ("grid_a", -1),
        ("place", -1),
        ("age", 120),
        ("count", 20),  # the first of the longest
        ("word", "\x01" * 20),  # 6 bytes a character in JSON ("\u0001")
        ("essay", "\x01" * 400),
    ],
)
def test_longest_answer_of_each_type(var_id: str, longest: Any) -> None:
    var = variable(EVERY_TYPE, var_id)
    assert kind(var.item).longest_answer(var) == longest


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-20, 2000) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)
HARD_CHARS = st.sampled_from(["a", " ", "\u3000", "\ufeff", "\x01", '"', "𠮷", "あ", "\ud800", "1"])


def raw_answer(var: Variable) -> st.SearchStrategy[Any]:
    """Raw answers near every rule of the variable's type, and any JSON at all."""
    codes = [o.code for o in var.options] or [0]
    near = st.sampled_from(codes) | st.integers(-10, 1000) | st.sampled_from(list(MISSING))
    options: list[st.SearchStrategy[Any]] = [
        JSONISH,
        st.sampled_from([None, "", [], True, False, *MISSING]),
        near,
        near.map(float),
        st.lists(near, max_size=6),
        st.lists(st.sampled_from(codes), unique=True, min_size=1),
    ]
    item = var.item
    if item.min is not None and item.max is not None:
        options += [
            st.integers(item.min - 5, item.max + 5),
            st.integers(item.min - 5, item.max + 5).map(str),
            st.text(st.sampled_from("0123456789０１２ .e+-x"), max_size=6),
        ]
    if item.max_length is not None:
        size = st.integers(0, item.max_length + 3)
        chars = size.flatmap(lambda n: st.lists(HARD_CHARS, min_size=n, max_size=n))
        options.append(chars.map("".join))
    return st.one_of(options)


@st.composite
def variable_and_raw(draw: st.DrawFn) -> tuple[Variable, Any]:
    var = draw(st.sampled_from(VARIABLES))
    return var, draw(raw_answer(var))


def is_valid_answer(var: Variable, value: Any) -> bool:
    item, codes = var.item, [o.code for o in var.options]
    if var.type in ("single", "select"):
        return type(value) is int and value in codes
    if var.type == "multi":
        exclusive = {o.code for o in var.options if o.exclusive}
        return (
            isinstance(value, list)
            and 0 < len(value) <= (item.max_picks or len(codes))
            and value == [c for c in codes if c in value]
            and (len(value) == 1 or not exclusive & set(value))
        )
    if var.type == "integer":
        return type(value) is int and (item.min or 0) <= value <= (item.max or 0)
    return (
        isinstance(value, str)
        and value.strip(JS_WHITESPACE) != ""
        and utf16_length(value) <= (item.max_length or 0)
    )


@settings(max_examples=1500, deadline=None)
@given(variable_and_raw())
def test_validation_stores_an_answer_or_a_missing_code(case: tuple[Variable, Any]) -> None:
    var, raw = case
    item_kind = kind(var.item)
    stored = item_kind.validate(var, raw)
    if type(stored) is int and stored < 0:
        assert stored in MISSING_GIVEN  # never −1: only the skip logic gives it
        assert stored != -7 or var.item.sensitive
    else:
        assert is_valid_answer(var, stored), stored
    assert item_kind.validate(var, stored) == stored  # what is stored reads back as itself
    # ... and fits the payload bound, even with every character escaped as \uXXXX.
    bound = len(compact_json(item_kind.longest_answer(var)).encode())
    assert len(json.dumps(stored, ensure_ascii=True, separators=(",", ":"))) <= bound


# --- validation, rule by rule --------------------------------------------------------------

CASES: list[tuple[str, Any, Any]] = [
    # nothing given, on every type
    *((v.id, blank, -9) for v in EVERY_TYPE.variables() for blank in (None, "", [])),
    # the standard codes given as such; −1 is the skip logic's alone
    *((v.id, code, code) for v in EVERY_TYPE.variables() for code in (-9, -8, -6)),
    *((v.id, bad, -8) for v in EVERY_TYPE.variables() for bad in (-1, -2, -10, {}, {"a": 1})),
    # 「答えたくない」 only where the item is sensitive
    *((v.id, -7, -7 if v.item.sensitive else -8) for v in EVERY_TYPE.variables()),
    # single, select, grid rows: one code of the options
    ("gate", 2, 2),
    ("gate", 2.0, 2),  # JSON does not tell 2 from 2.0
    ("gate", 3, -8),  # not an option
    ("gate", 2.5, -8),
    ("gate", True, -8),  # true is not the code 1
    ("gate", "1", -8),
    ("gate", [1], 1),  # one mark (paper)
    ("gate", [1, 2], -8),  # several marks on a single choice
    ("gate", [[1]], -8),
    ("grid_a", 0, 0),
    ("grid_b", 2, -8),
    ("grid_b", [-7], -7),
    ("place", 2, 2),
    ("place", 0, -8),
    # multi: codes of the options, an exclusive one alone, at most max_picks
    ("picks", [2, 1], [1, 2]),  # stored in the options' order
    ("picks", [9], [9]),
    ("picks", [1, 9], -8),  # 「なし」 with something else
    ("picks", [1, 2, 3], -8),  # max_picks is 2
    ("picks", [1, 1], -8),
    ("picks", [1, 4], -8),
    ("picks", [-7], -7),
    ("picks", [1, -7], -8),
    ("picks", [-9], -8),
    ("picks", 1, -8),  # a pick is a list
    ("picks", [True], -8),
    ("every_pick", [1, 2], [1, 2]),  # no max_picks: every option
    ("every_pick", [-7], -8),  # not sensitive
    # integer: a whole number from min to max, typed or as a number
    ("age", 0, 0),
    ("age", 120, 120),
    ("age", 121, -8),
    ("age", 12.0, 12),
    ("age", 12.5, -8),
    ("age", True, -8),
    ("age", "12", 12),
    ("age", " １２　", 12),  # full-width digits and spaces (NFKC), as the browser takes them
    ("age", "007", 7),
    ("age", "\u3000", -9),
    ("age", "12.5", -8),
    ("age", "1e1", -8),
    ("age", "0x10", -8),
    ("age", "+5", -8),
    ("age", "-7", -8),
    ("age", "9" * 5000, -8),  # too long to be in range (and never int() of it)
    ("age", [12], -8),
    ("count", 0, -8),  # min is 1
    ("count", 20, 20),
    # text: a string of at most max_length UTF-16 units, spaces only is nothing
    ("word", "x" * 20, "x" * 20),
    ("word", "x" * 21, -8),
    ("word", "𠮷" * 10, "𠮷" * 10),  # 20 UTF-16 units
    ("word", "𠮷" * 10 + "x", -8),
    ("word", " \u3000\t\n", -9),
    ("word", "\ufeff", -9),  # blank to JavaScript's trim(), so blank here
    ("word", "\x1c", "\x1c"),  # blank to Python's strip(), not to the browser: text
    ("word", " a ", " a "),  # kept as written
    ("word", 5, -8),
    ("word", ["a"], -8),
    ("essay", "意見\n" * 100, "意見\n" * 100),
    ("essay", "あ" * 401, -8),
]


@pytest.mark.parametrize(("var_id", "raw", "expected"), CASES)
def test_validation_rules(var_id: str, raw: Any, expected: Any) -> None:
    var = variable(EVERY_TYPE, var_id)
    stored = kind(var.item).validate(var, raw)
    assert stored == expected and type(stored) is type(expected)


# --- codebook entry, template, demo answer --------------------------------------------------


def test_codebook_entries() -> None:
    entries = {e["id"]: e for e in form_codebook(EVERY_TYPE)["variables"]}
    assert list(entries) == [v.id for v in EVERY_TYPE.variables()]
    assert entries["picks"] == {
        "id": "picks",
        "item": "picks",
        "type": "multi",
        "text": {"ja": "複数", "en": "Several"},
        "options": [
            {"code": 1, "label": {"ja": "あ", "en": "A"}, "exclusive": False},
            {"code": 2, "label": {"ja": "い", "en": "B"}, "exclusive": False},
            {"code": 3, "label": {"ja": "う", "en": "C"}, "exclusive": False},
            {"code": 9, "label": {"ja": "なし", "en": "None"}, "exclusive": True},
        ],
        "show_if": "gate in [1]",
        "sensitive": True,
        "max_picks": 2,
        "min": None,
        "max": None,
        "max_length": None,
    }
    grid = entries["grid_b"]  # a row: its own column, a single choice, the question and row
    assert (grid["item"], grid["type"], grid["text"]) == (
        "grid",
        "single",
        {"ja": "表 — 行B", "en": "Grid — Row B"},
    )
    assert [o["code"] for o in grid["options"]] == [0, 1]
    assert (entries["age"]["min"], entries["age"]["max"], entries["age"]["options"]) == (0, 120, [])
    assert entries["essay"]["max_length"] == 400 and entries["essay"]["type"] == "longtext"
    assert entries["place"]["type"] == "select" and entries["word"]["type"] == "text"


@pytest.mark.parametrize("form", ALL_FORMS, ids=lambda f: f.id)
def test_random_answers_are_valid_answers(form: Any) -> None:
    rng = random.Random(3)
    for _ in range(100):
        for var in form.variables():
            item_kind = kind(var.item)
            value = item_kind.random_answer(var, rng)
            if value is not None:
                assert item_kind.validate(var, value) == value
