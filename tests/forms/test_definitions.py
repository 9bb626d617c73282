"""Every form loads, round-trips through the export, and broken definitions fail clearly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from survey.cohorts import COHORTS
from survey.forms.codebook import codebook
from survey.forms.loader import FormError, _expand, current_forms, definitions_dir, load_forms
from survey.forms.schema import FormFile


def test_every_cohort_has_a_form() -> None:
    forms = load_forms()
    assert set(current_forms(forms)) == set(COHORTS)
    for form in forms.values():
        assert form.padded_size % 4096 == 0
        items = {i.id for i in form.items()}
        assert {"k6", "ideation_ever", "ideation_recent", "district", "sex"} <= items
        assert any(
            s.crisis_after and any(i.id == "ideation_ever" for i in s.items) for s in form.sections
        )
        for item in form.items():
            if item.id.startswith(("k6", "ideation")):
                assert item.sensitive, item.id  # offers 「答えたくない」
        assert {d.id for d in form.derived} == {
            "k6_total",
            "k6_band",
            "k6_10plus",
            "k6_13plus",
            "ideation_ever_yes",
            "ideation_past_year",
        }


def test_students_forms_leave_out_adult_items_and_general_is_bilingual() -> None:
    forms = current_forms(load_forms())
    for cohort in ("junior_high", "high_school"):
        items = {i.id for i in forms[cohort].items()}
        assert {"st_talk_to", "st_sns_known", "st_sos_edu"} <= items
        assert not {"occupation", "attitudes", "measures", "cr_stress"} & items
    for cohort in ("infant_guardian", "elementary_guardian"):
        assert {
            "relation",
            "child_stage",
            "cr_stress",
            "cr_support",
            "occupation",
            "household",
        } <= {i.id for i in forms[cohort].items()}
    for cohort in ("junior_high", "high_school"):
        assert "st_household" in {i.id for i in forms[cohort].items()}
    assert forms["general"].item("k6").text.ja.startswith("過去1か月の間に")
    general = forms["general"]
    assert general.source.languages == ["ja", "en"]
    assert all(i.text.en for i in general.items())
    k6 = general.item("k6")
    assert next(r.text.ja for r in k6.rows or ()) == "神経過敏に感じましたか"
    assert [(o.code, o.label.ja) for o in k6.options or ()] == [
        (4, "いつも"),
        (3, "たいてい"),
        (2, "ときどき"),
        (1, "少しだけ"),
        (0, "まったくない"),
    ]


def test_round_trip_through_the_export() -> None:
    forms = load_forms()
    exported = json.loads(json.dumps(codebook(forms), ensure_ascii=False))
    assert set(exported["missing_codes"]) == {"-1", "-6", "-7", "-8", "-9"}
    for key, form in forms.items():
        entry = exported["forms"][f"{key[0]}.v{key[1]}"]
        again = _expand(form.path, FormFile.model_validate(entry["definition"]), {}, problems := [])
        assert problems == []
        assert again.sha256 == form.sha256 == entry["sha256"]
        assert [v["id"] for v in entry["variables"]] == [v.id for v in form.variables()]


@pytest.fixture
def defs(tmp_path: Path) -> Path:
    """A private copy of the definitions to break."""
    target = tmp_path / "definitions"
    shutil.copytree(definitions_dir(), target)
    return target


def edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def first_section_items(data: dict) -> list:  # type: ignore[type-arg]
    return data["sections"][0]["items"]


def problems(directory: Path) -> list[str]:
    with pytest.raises(FormError) as info:
        load_forms(directory)
    return info.value.errors


BROKEN = {
    "unknown module": (
        lambda d: first_section_items(d).append({"use": "nope"}),
        "unknown module 'nope'",
    ),
    "duplicate id": (
        lambda d: first_section_items(d).append(
            {"id": "sex", "type": "text", "text": "x", "max_length": 5}
        ),
        "sex: duplicate id",
    ),
    "missing options": (
        lambda d: first_section_items(d).append({"id": "q_x", "type": "single", "text": "x"}),
        "q_x: Value error, a single item needs options",
    ),
    "grid without rows": (
        lambda d: first_section_items(d).append(
            {"id": "q_x", "type": "grid", "text": "x", "scale": "agree5"}
        ),
        "q_x: Value error, a grid needs rows",
    ),
    "integer range": (
        lambda d: first_section_items(d).append(
            {"id": "q_x", "type": "integer", "text": "x", "min": 5, "max": 5}
        ),
        "q_x: Value error, an integer item needs min < max",
    ),
    "text length": (
        lambda d: first_section_items(d).append({"id": "q_x", "type": "text", "text": "x"}),
        "q_x: Value error, a text item needs max_length",
    ),
    "max picks": (
        lambda d: first_section_items(d).append(
            {
                "id": "q_x",
                "type": "multi",
                "text": "x",
                "max_picks": 3,
                "options": [{"code": 1, "label": "a"}],
            }
        ),
        "q_x: Value error, max_picks is larger",
    ),
    "unknown scale": (
        lambda d: first_section_items(d).append(
            {"id": "q_x", "type": "single", "text": "x", "scale": "nope"}
        ),
        "q_x: unknown scale 'nope'",
    ),
    "show_if on a later item": (
        lambda d: first_section_items(d).insert(
            0,
            {
                "id": "q_x",
                "type": "text",
                "text": "x",
                "max_length": 5,
                "show_if": {"item": "ideation_ever", "in": [1]},
            },
        ),
        "q_x: show_if refers to 'ideation_ever'",
    ),
    "show_if codes": (
        lambda d: first_section_items(d).append(
            {
                "id": "q_x",
                "type": "text",
                "text": "x",
                "max_length": 5,
                "show_if": {"item": "sex", "in": [9]},
            }
        ),
        "q_x: show_if codes [9] are not options of sex",
    ),
    "derived reference": (
        lambda d: d.setdefault("derived", []).append(
            {"id": "d_x", "label": "x", "kind": "threshold", "source": "nope", "min": 1}
        ),
        "d_x: refers to unknown variable 'nope'",
    ),
    "unknown cohort": (lambda d: d.update(cohort="aliens"), "unknown cohort 'aliens'"),
    "extra field": (lambda d: d.update(colour="red"), "Extra inputs are not permitted"),
    "padded size": (
        lambda d: d.update(padded_size=4096),
        "padded_size is 4096, but the largest answer needs 8192",
    ),
    "missing English": (
        lambda d: first_section_items(d).append(
            {"id": "q_x", "type": "text", "text": "日本語だけ", "max_length": 5}
        ),
        "q_x: English text missing",
    ),
    "over the intake limit": (
        lambda d: first_section_items(d).extend(
            {"id": f"q_{i}", "type": "longtext", "text": {"ja": "x", "en": "x"}, "max_length": 4000}
            for i in range(12)
        ),
        "would not fit the intake's 262144-byte body limit",
    ),
    "a broken item reports only its own fault": (
        lambda d: first_section_items(d).append(
            {"id": "q_x", "type": "singel", "text": {"ja": "x", "en": "x"}, "options": []}
        ),
        "q_x: Input should be 'single', 'multi', 'grid', 'integer', 'text', 'longtext' or "
        "'select' (sections.0.items.4.type)",
    ),
    "no crisis lines after the ideation items": (
        lambda d: next(s for s in d["sections"] if s["id"] == "ideation").update(
            crisis_after=False
        ),
        "ideation: asks about suicidal ideation (ideation_ever) but does not show the crisis",
    ),
    "an ideation item without 答えたくない": (
        lambda d: first_section_items(d).append(
            {
                "id": "ideation_x",
                "type": "single",
                "text": {"ja": "x", "en": "x"},
                "options": [{"code": 1, "label": {"ja": "a", "en": "a"}}],
            }
        ),
        "ideation_x: must be sensitive",
    ),
    "a section title without English": (
        lambda d: d["sections"][0].update(title="あなたについて"),
        "about_you: English text missing",
    ),
    "a sum over a multiple choice": (
        lambda d: d.setdefault("derived", []).append(
            {"id": "d_x", "label": {"ja": "x", "en": "x"}, "kind": "sum", "items": ["consult"]}
        ),
        "d_x: sums 'consult', a multi item",
    ),
    "bands with a gap": (
        lambda d: d.setdefault("derived", []).append(
            {
                "id": "d_x",
                "label": {"ja": "x", "en": "x"},
                "kind": "bands",
                "source": "k6_total",
                "bands": [
                    {"min": 0, "max": 4, "code": 1, "label": {"ja": "a", "en": "a"}},
                    {"min": 6, "code": 2, "label": {"ja": "b", "en": "b"}},
                ],
            }
        ),
        "d_x: bands leave a gap or overlap between 0 and 6",
    ),
    "cases on codes that are not options": (
        lambda d: d.setdefault("derived", []).append(
            {
                "id": "d_x",
                "label": {"ja": "x", "en": "x"},
                "kind": "cases",
                "cases": [{"when": {"item": "sex", "in": [99]}, "value": 1}],
            }
        ),
        "d_x: codes [99] are not options of sex",
    ),
    "a field that does not apply": (
        lambda d: first_section_items(d).append(
            {
                "id": "q_x",
                "type": "text",
                "text": {"ja": "x", "en": "x"},
                "max_length": 5,
                "max_picks": 2,
            }
        ),
        "q_x: Value error, max_picks do(es) not apply to a text item",
    ),
    "no sections": (lambda d: d.update(sections=[]), "List should have at least 1 item"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_definitions_name_file_item_and_reason(defs: Path, case: str) -> None:
    change, expected = BROKEN[case]
    edit(defs / "general.v1.yaml", change)
    found = problems(defs)
    assert any(p.startswith("general.v1.yaml: ") and expected in p for p in found), found


def test_bad_yaml_and_duplicate_versions(defs: Path) -> None:
    (defs / "broken.yaml").write_text("id: [unclosed", encoding="utf-8")
    shutil.copy(defs / "general.v1.yaml", defs / "general-copy.yaml")
    found = problems(defs)
    assert any(p.startswith("broken.yaml: -: YAML") for p in found)
    assert any("form general version 1 defined twice" in p for p in found)


def test_module_errors_name_the_module(defs: Path) -> None:
    edit(defs / "modules" / "k6.yaml", lambda d: d["items"][0].update(type="nonsense"))
    found = problems(defs)
    assert any(p.startswith("k6.yaml: k6: Input should be") for p in found), found


def test_forms_cli(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    checked = run("forms", "check")
    assert checked.exit_code == 0 and "OK general v1" in checked.stdout
    exported = json.loads(run("forms", "export", "--json").stdout)
    assert exported["forms"]["general.v1"]["padded_size"] == 8192
    out = tmp_path / "codebook.xlsx"
    assert run("forms", "codebook", "--out", str(out)).exit_code == 0
    import openpyxl

    book = openpyxl.load_workbook(out)
    assert {"general.v1", "派生変数 derived", "欠損値 missing"} <= set(book.sheetnames)
    rows = list(book["general.v1"].iter_rows(values_only=True))
    assert rows[[r[0] for r in rows].index("k6_1")][:3] == ("k6_1", "k6", "single")


def test_forms_check_reports_a_broken_folder_with_exit_1(run, defs: Path) -> None:  # type: ignore[no-untyped-def]
    edit(defs / "general.v1.yaml", lambda d: d.update(padded_size=4096))
    result = run("forms", "check", "--dir", str(defs))
    assert result.exit_code == 1
    assert "general.v1.yaml: -: padded_size is 4096" in result.stderr


def test_forms_check_compares_the_district_list_with_each_study(run) -> None:  # type: ignore[no-untyped-def]
    assert run("study", "create", "s", "--as-of", "2026-04-01").exit_code == 0
    assert run("forms", "check").exit_code == 0
    assert run("study", "set", "districts=本町,柏町,宗岡新田").exit_code == 0
    result = run("forms", "check")
    assert result.exit_code == 1 and "宗岡新田" in result.stderr


def test_a_changed_frozen_form_stops_the_collector(issued, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from survey.collector.intake import Intake, NotReady

    changed = tmp_path / "definitions"
    shutil.copytree(definitions_dir(), changed)
    edit(
        changed / "general.v2.yaml",  # the version the codes froze (the newest)
        lambda d: d["sections"][0]["items"][1]["options"][0].update(
            label={"ja": "18歳・19歳", "en": "18 or 19"}
        ),
    )
    monkeypatch.setattr("survey.forms.loader.definitions_dir", lambda: changed)
    with pytest.raises(NotReady):
        Intake(issued.db.engine, issued.settings, "default")
