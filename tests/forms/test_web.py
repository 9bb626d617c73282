"""The web view of the forms: each instruction said once, in the form's own wording; v1 frozen
byte for byte while v2 leaves the instructions to the item types."""

from __future__ import annotations

import re
from html import unescape

import pytest
from jinja2 import Environment, FileSystemLoader

from survey.cohorts import STUDENT_COHORTS
from survey.forms.items.multi import says_how_many
from survey.forms.loader import Form, current_forms, load_forms
from survey.forms.web import form_view
from tests.forms.test_items import TEMPLATES

# The SHA-256 of each v1's expanded definition as codes froze it before v2 existed: editing
# a v1 file or a module it uses would change a study's questions after the fact.
FROZEN_V1 = {
    "elementary_guardian": "e108ae5d873eeececc3eb3898bcfd68541570b079a617177db448e48ac827696",
    "general": "5f49afd82b25b6f72b90f436b52b5d25946ef1d6e9ffd4cbbcda3252bce96830",
    "high_school": "b84e312ef49d3ea73966ec96d944d8ec78798b079f3d593994153232d2517984",
    "infant_guardian": "67e607980018728124227544c292fcb0a4fc0ade539270812402f733c6f33dc0",
    "junior_high": "441e03e862089a4581da705604c968cb03042c303b7caf83508ea98f5c0fc2a0",
}
FORMS = sorted(load_forms().values(), key=lambda f: (f.id, f.version))
INSTRUCTION = re.compile(r"（(あてはまるものすべて|\d+つまで)）")
ENGLISH_INSTRUCTION = re.compile(r"\((all that apply|up to \d+)\)")


def rendered_items(form: Form) -> dict[str, str]:
    """Each item's HTML as the collector renders it, tags and all, by item id."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    html = env.get_template("form.html").render(
        form=form_view(form), bilingual="en" in form.source.languages, crisis_lines=[]
    )
    parts = re.split(r'(?=<(?:fieldset|div) class="item[^"]*" data-item=")', html)
    out = {}
    for part in parts[1:]:
        found = re.match(r'<(?:fieldset|div) class="item[^"]*" data-item="([a-z0-9_]+)"', part)
        assert found is not None
        out[found.group(1)] = part
    return out


def text_of(html: str) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", html))


def test_v1_forms_are_frozen_byte_for_byte() -> None:
    v1 = {f.id: f.sha256 for f in FORMS if f.version == 1}
    assert v1 == FROZEN_V1
    assert {f.id: f.version for f in current_forms(load_forms()).values()} == dict.fromkeys(
        FROZEN_V1, 2
    )


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f"{f.id}.v{f.version}")
def test_every_instruction_is_said_once(form: Form) -> None:
    items = rendered_items(form)
    plain = form.cohort in STUDENT_COHORTS
    for item in form.items():
        shown = text_of(items[item.id])
        if item.type == "multi":
            # Once in Japanese, and once in English on a bilingual form (v1 texts carry it,
            # the v2 item type says it), never twice.
            assert len(INSTRUCTION.findall(shown)) == 1, (item.id, shown)
            if "en" in form.source.languages:
                assert len(ENGLISH_INSTRUCTION.findall(shown)) == 1, (item.id, shown)
            wanted = f"（{item.max_picks}つまで）" if item.max_picks else "（あてはまるものすべて）"
            assert wanted in shown
        if item.type == "longtext":
            assert shown.count("書かないで") == 1, (item.id, shown)
            assert f"{item.max_length}文字まで" in shown
            if plain:  # the students' wording on a student form
                assert "だれが書いたか" in shown
                assert "お名前" not in shown and "個人が特定" not in shown
            else:
                assert "お名前" in shown


def test_v2_texts_leave_the_instructions_to_the_item_types() -> None:
    for form in (f for f in FORMS if f.version == 2):
        for item in form.items():
            assert not says_how_many(item.text), (form.id, item.id)
            assert not INSTRUCTION.search(item.text.ja)
            assert not ENGLISH_INSTRUCTION.search(item.text.en or "")
            if item.type == "longtext":
                assert item.note is None, (form.id, item.id)


@pytest.mark.parametrize(
    ("cohort", "frame"),
    [("infant_guardian", "小学校入学前"), ("elementary_guardian", "小学生")],
)
def test_guardian_forms_v2_ask_how_many_children_are_in_the_frame(cohort: str, frame: str) -> None:
    form = current_forms(load_forms())[cohort]
    assert form.version == 2 and form.source.languages == ["ja"]
    about = form.sections[0]
    ids = [i.id for i in about.items if hasattr(i, "id")]
    assert ids[ids.index("child_stage") + 1] == "eligible_children"  # beside relation/stage
    item = form.item("eligible_children")
    assert (item.type, item.min, item.max, item.sensitive) == ("integer", 1, 9, False)
    assert item.unit is not None and item.unit.ja == "人" and item.unit.en is None
    assert frame in item.text.ja and item.text.en is None
    shown = text_of(rendered_items(form)["eligible_children"])
    assert "1〜9の整数" in shown and "人" in shown
