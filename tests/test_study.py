"""Study settings: the values people type, refused in plain words."""

from __future__ import annotations

import pytest

from survey.errors import UsageError
from survey.models import Study
from survey.study import effective_settings, parse_assignment


def test_crisis_lines_take_english_names_and_hours() -> None:
    key, value = parse_assignment(
        'crisis_lines=[{"name": "市のこころの相談", "name_en": "City counselling", '
        '"number": "048-473-0000", "hours": "平日 9時〜17時"}, {"name": "a", "number": "1"}]'
    )
    assert key == "crisis_lines"
    assert value == [
        {
            "name": "市のこころの相談",
            "name_en": "City counselling",
            "number": "048-473-0000",
            "hours": "平日 9時〜17時",
        },
        {"name": "a", "name_en": "", "number": "1", "hours": ""},
    ]
    for bad in ("[]", "[1]", '[{"name": "a"}]', '[{"name": "a", "number": ""}]', "{", "x"):
        with pytest.raises(UsageError):
            parse_assignment(f"crisis_lines={bad}")
    with pytest.raises(UsageError):
        parse_assignment('crisis_lines=[{"name": "a", "number": "1", "url": "x"}]')


def test_lines_stored_in_the_old_format_still_load() -> None:
    study = Study(name="s", settings={"crisis_lines": [{"name": "いのちの電話", "number": "1"}]})
    assert effective_settings(study)["crisis_lines"] == [
        {"name": "いのちの電話", "name_en": "", "number": "1", "hours": ""}
    ]


def test_postage_and_the_office_address() -> None:
    assert parse_assignment("postage_mark=後納") == ("postage_mark", "後納")
    assert parse_assignment("postage_permit= 志木郵便局") == ("postage_permit", "志木郵便局")
    assert parse_assignment("office_address=〒353-8501 志木市") == (
        "office_address",
        "〒353-8501 志木市",
    )
    defaults = effective_settings(Study(name="s", settings={}))
    assert defaults["postage_mark"] == "none" and defaults["office_address"] == ""
    with pytest.raises(UsageError) as refused:
        parse_assignment("postage_mark=料金後納")
    assert "none, 後納, 別納" in refused.value.en


@pytest.mark.parametrize(
    "assignment",
    [
        "general_min_age=abc",
        "general_min_age=1.5",
        "checkup_ages=4,x",
        "response_targets=general=y",
    ],
)
def test_no_python_internals_in_setting_errors(assignment: str) -> None:
    with pytest.raises(UsageError) as refused:
        parse_assignment(assignment)
    for text in (refused.value.ja, refused.value.en):
        assert "invalid literal" not in text and "could not convert" not in text
