from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.register.dates import DateFormatError, parse_date, to_wareki


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2005-04-01", date(2005, 4, 1)),
        ("2005/4/1", date(2005, 4, 1)),
        ("2005.04.01", date(2005, 4, 1)),
        ("20050401", date(2005, 4, 1)),
        ("２００５／４／１", date(2005, 4, 1)),
        ("平成17年4月1日", date(2005, 4, 1)),
        ("H17.4.1", date(2005, 4, 1)),
        ("h17.4.1", date(2005, 4, 1)),
        ("R2.12.3", date(2020, 12, 3)),
        ("令和2年12月3日", date(2020, 12, 3)),
        ("昭和55年12月26日", date(1980, 12, 26)),
        ("S55/12/26", date(1980, 12, 26)),
        ("平成元年1月8日", date(1989, 1, 8)),
        ("昭和64年1月7日", date(1989, 1, 7)),
        ("平成31年4月30日", date(2019, 4, 30)),
        ("令和元年5月1日", date(2019, 5, 1)),
        ("大正15年12月24日", date(1926, 12, 24)),
        ("昭和元年12月25日", date(1926, 12, 25)),
        ("T1.7.30", date(1912, 7, 30)),
        ("明治45年7月29日", date(1912, 7, 29)),
        (" 2000-02-29 ", date(2000, 2, 29)),
        ("R元.5.1", date(2019, 5, 1)),
        ("H元.1.8", date(1989, 1, 8)),
        ("平成 17年 4月 1日", date(2005, 4, 1)),
    ],
)
def test_accepted_forms(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "平成31年5月1日",  # 令和 began on 2019-05-01
        "令和元年4月30日",
        "昭和64年1月8日",
        "平成元年1月7日",
        "大正15年12月25日",
        "明治45年7月30日",
        "H32.1.1",
        "2001-02-29",
        "2005-13-01",
        "2005/4/31",
        "平成0年1月1日",
        "X17.4.1",
        "17.4.1",
        "",
        "不明",
    ],
)
def test_rejected(text: str) -> None:
    with pytest.raises(DateFormatError):
        parse_date(text)


@given(st.dates(min_value=date(1873, 1, 1), max_value=date(2100, 12, 31)))
def test_wareki_round_trip(d: date) -> None:
    assert parse_date(to_wareki(d)) == d
