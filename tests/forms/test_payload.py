"""Padded sizes are upper bounds: every possible answer fits, and pads to exactly that size."""

from __future__ import annotations

import json
from typing import Any

import nacl.bindings
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.forms.loader import Form, Variable, load_forms
from survey.forms.payload import (
    STUDY_ID_MAX,
    encode,
    max_payload_size,
    padded_size,
    request_body_size,
)
from survey.forms.schema import MISSING

FORMS = sorted(load_forms().values(), key=lambda f: (f.id, f.version))
# Every kind of character that costs bytes: non-BMP (4 bytes UTF-8), JSON escapes, controls.
HARD_CHARS = st.sampled_from(['"', "\\", "\n", "\x01", "𠮷", "髙", "あ", "a", "\u2028", "😀"])


def answer(var: Variable) -> st.SearchStrategy[Any]:
    missing = st.sampled_from(list(MISSING))
    item = var.item
    codes = [o.code for o in var.options]
    if var.type in ("text", "longtext"):
        assert item.max_length is not None
        # max_length counts UTF-16 code units, as the browser's maxlength does.
        text = st.lists(HARD_CHARS, min_size=item.max_length, max_size=item.max_length).map("".join)
        return text.map(
            lambda s: s.encode("utf-16-le")[: 2 * item.max_length].decode("utf-16-le", "ignore")
        )
    if var.type == "integer":
        return st.one_of(st.integers(item.min or 0, item.max or 0), missing)
    if var.type == "multi":
        return st.one_of(
            st.lists(
                st.sampled_from(codes),
                unique=True,
                min_size=1,
                max_size=item.max_picks or len(codes),
            ),
            missing,
        )
    return st.one_of(st.sampled_from(codes), missing)


@st.composite
def full_answers(draw: st.DrawFn, form: Form) -> dict[str, Any]:
    return {v.id: draw(answer(v)) for v in form.variables()}


def check(form: Form, answers: dict[str, Any], study: str) -> None:
    payload = encode(study, form, answers)
    assert len(payload) < form.padded_size
    assert len(nacl.bindings.sodium_pad(payload, form.padded_size)) == form.padded_size
    # The browser's JSON.stringify escapes like json.dumps(ensure_ascii=False) at worst
    # like ensure_ascii=True: both fit.
    doc = json.loads(payload)
    ascii_form = json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode()
    assert len(ascii_form) < form.padded_size


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_padded_size_is_an_upper_bound(data: st.DataObject) -> None:
    form = data.draw(st.sampled_from(FORMS))
    answers = data.draw(full_answers(form))
    check(form, answers, "s" * STUDY_ID_MAX)


def test_worst_case_text_fits() -> None:
    for form in FORMS:
        answers = {}
        for v in form.variables():
            if v.type in ("text", "longtext"):
                answers[v.id] = "\x01" * (v.item.max_length or 0)  # 6 bytes each as \u0001
            elif v.type == "multi":
                codes = sorted((o.code for o in v.options), key=lambda c: -len(str(c)))
                answers[v.id] = codes[: v.item.max_picks or len(codes)]
            else:
                answers[v.id] = max([o.code for o in v.options] or [v.item.max or 0])
        payload = json.dumps(
            {
                "study": "s" * 32,
                "cohort": form.cohort,
                "form": form.id,
                "version": form.version,
                "answers": answers,
            },
            ensure_ascii=True,
            separators=(",", ":"),
        ).encode()
        assert len(payload) <= max_payload_size(form) < form.padded_size == padded_size(form)


def test_sealed_answers_fit_the_intake_limit() -> None:
    assert all(request_body_size(f.padded_size) <= 256 * 1024 for f in FORMS)
