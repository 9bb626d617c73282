"""Dates as Japanese municipal systems write them: ISO, slashes, and era (和暦) forms.

Accepted: ``2005-04-01``, ``2005/4/1``, ``2005.4.1``, ``平成17年4月1日``, ``平成元年1月8日``,
``H17.4.1``, ``R2.12.3``, ``S55/12/26``; full-width digits too. An era date must fall
inside its era: ``平成31年5月1日`` does not exist (令和 began on 2019-05-01).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache
from typing import NamedTuple


class Era(NamedTuple):
    kanji: str
    letter: str
    first: date
    last: date | None


# Gregorian boundaries of the modern eras. Meiji starts at the adoption of the solar
# calendar (明治6年1月1日); earlier Meiji dates were lunar and cannot be converted simply.
ERAS: tuple[Era, ...] = (
    Era("明治", "M", date(1873, 1, 1), date(1912, 7, 29)),
    Era("大正", "T", date(1912, 7, 30), date(1926, 12, 24)),
    Era("昭和", "S", date(1926, 12, 25), date(1989, 1, 7)),
    Era("平成", "H", date(1989, 1, 8), date(2019, 4, 30)),
    Era("令和", "R", date(2019, 5, 1), None),
)
_BY_NAME = {e.kanji: e for e in ERAS} | {e.letter: e for e in ERAS}
# Year 1 of each era is the Gregorian year the era began in (明治元年 = 1868).
_ERA_YEAR1 = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}

_WESTERN = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_ERA_KANJI = re.compile(r"^(明治|大正|昭和|平成|令和)(元|\d{1,2})年(\d{1,2})月(\d{1,2})日$")
_ERA_LETTER = re.compile(r"^([MTSHR])(元|\d{1,2})[./-](\d{1,2})[./-](\d{1,2})$")


class DateFormatError(ValueError):
    """Carries a bilingual reason; the value itself is reported by the caller if allowed."""

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(en)
        self.ja = ja
        self.en = en


def _make(y: int, m: int, d: int) -> date:
    try:
        return date(y, m, d)
    except ValueError as exc:
        raise DateFormatError("存在しない日付です", "no such date") from exc


def _era_date(era_name: str, year_text: str, m: int, d: int) -> date:
    era = _BY_NAME[era_name]
    year = 1 if year_text == "元" else int(year_text)
    if year < 1:
        raise DateFormatError("元号の年が不正です", "invalid era year")
    result = _make(_ERA_YEAR1[era.kanji] + year - 1, m, d)
    if result < era.first or (era.last is not None and result > era.last):
        raise DateFormatError(f"{era.kanji}の期間外の日付です", f"date outside the {era.kanji} era")
    return result


@lru_cache(maxsize=100_000)
def parse_date(text: str) -> date:
    """Parse one date; raises :class:`DateFormatError` with the reason."""
    # NFKC folds full-width digits and punctuation (２００５／４／１) to ASCII.
    s = "".join(unicodedata.normalize("NFKC", text).split()).upper()  # 「平成 17年」 too
    if not s:
        raise DateFormatError("日付が空です", "date is empty")
    if m := _WESTERN.match(s) or _COMPACT.match(s):
        return _make(int(m[1]), int(m[2]), int(m[3]))
    if m := _ERA_KANJI.match(s):
        return _era_date(m[1], m[2], int(m[3]), int(m[4]))
    if m := _ERA_LETTER.match(s):
        return _era_date(m[1], m[2], int(m[3]), int(m[4]))
    raise DateFormatError("日付の形式が読めません", "unrecognised date format")


def to_wareki(d: date) -> str:
    """Format as 和暦 (``平成17年4月1日``); used by the synthetic register."""
    for era in reversed(ERAS):
        if d >= era.first:
            year = d.year - _ERA_YEAR1[era.kanji] + 1
            y = "元" if year == 1 else str(year)
            return f"{era.kanji}{y}年{d.month}月{d.day}日"
    raise ValueError("date before the Meiji solar calendar")
