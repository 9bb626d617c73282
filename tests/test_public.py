"""What every respondent-facing surface reads: crisis lines (old entries too), the office."""

from __future__ import annotations

from survey.public import DEFAULT_CRISIS_LINES, Contact, crisis_lines, hours_en, tel


def test_crisis_lines_read_old_entries_as_the_current_format() -> None:
    old = [{"name": "よりそいホットライン", "number": "0120-279-338"}, {"name": "", "number": "1"}]
    assert crisis_lines(old) == [
        {"name": "よりそいホットライン", "name_en": "", "number": "0120-279-338", "hours": ""}
    ]
    assert crisis_lines(None) == [] and crisis_lines("x") == []
    assert crisis_lines(DEFAULT_CRISIS_LINES) == DEFAULT_CRISIS_LINES
    assert all(line["name_en"] for line in DEFAULT_CRISIS_LINES)


def test_hours_in_english_only_where_the_translation_is_sure() -> None:
    assert hours_en("24時間") == "24 hours"
    assert hours_en("10時〜22時") == "10:00-22:00"
    assert hours_en("平日 8時30分〜17時15分") == "weekdays 8:30-17:15"
    assert hours_en("月・木は24時間、火曜は22時まで") == "月・木は24時間、火曜は22時まで"
    assert tel("0120-279-338") == "0120279338" and tel("LINE @x") is None


def test_the_office_contact_and_sender_block() -> None:
    values = {
        "organisation": "志木市",
        "section": " 健康政策課 ",
        "office_address": "〒353-8501 埼玉県志木市中宗岡1-1-1",
        "office_phone": "048-473-1111",
        "office_hours": "平日 8時30分〜17時15分",
    }
    contact = Contact.of(values)
    assert contact.name == "志木市 健康政策課" and contact.given
    assert contact.sender_lines() == [
        "〒353-8501 埼玉県志木市中宗岡1-1-1",
        "志木市 健康政策課",
        "電話 048-473-1111（平日 8時30分〜17時15分）",
    ]
    assert not Contact.of({}).given and Contact.of({}).sender_lines() == []
