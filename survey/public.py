"""What every respondent-facing surface shows unless the study says otherwise.

Core (both sides): the office's study settings default to these, and the collector shows
them before any study is installed, so even its "not open yet" page lists the crisis lines.
The office's contact (:class:`Contact`) and the crisis lines (:func:`crisis_lines`) are read
here once for every surface that shows them: the public pages, the code slips, the
postcards (and later the paper forms and the report).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

DEFAULT_TITLE = "こころの健康に関する市民意識調査"
DEFAULT_TITLE_EN = "Citizens' survey on mental health"

# The national lines; each study checks them (and their hours) with the city before going
# live. ``hours`` is left empty where it varies by region or over time.
DEFAULT_CRISIS_LINES: list[dict[str, str]] = [
    {
        "name": "こころの健康相談統一ダイヤル",
        "name_en": "Mental health helpline (Kokoro no Kenko Sodan Dial)",
        "number": "0570-064-556",
        "hours": "",
    },
    {
        "name": "よりそいホットライン",
        "name_en": "Yorisoi Hotline",
        "number": "0120-279-338",
        "hours": "24時間",
    },
    {
        "name": "いのちの電話",
        "name_en": "Inochi no Denwa (Lifeline)",
        "number": "0570-783-556",
        "hours": "10〜22時",
    },
    {"name": "#いのちSOS", "name_en": "#Inochi SOS", "number": "0120-061-338", "hours": ""},
    {
        "name": "こころのほっとチャット（SNS相談）",
        "name_en": "Kokoro no Hotto Chat (counselling on social media)",
        "number": "LINE・X・Facebook @kokorohotchat",
        "hours": "",
    },
    {
        "name": "24時間子供SOSダイヤル",
        "name_en": "24-hour SOS dial for children",
        "number": "0120-0-78310",
        "hours": "24時間",
    },
]
CRISIS_FIELDS = ("name", "name_en", "number", "hours")

# Study settings the public side needs (they travel in the collector file).
PUBLIC_SETTINGS = (
    "title",
    "title_en",
    "crisis_lines",
    "web_cohorts",
    "fieldwork_end",
    "fieldwork_grace_days",
    "organisation",
    "section",
    "office_address",
    "office_phone",
    "office_hours",
)
DEFAULT_GRACE_DAYS = 14


def tel(number: str) -> str | None:
    """A ``tel:`` target for a phone number (None for an SNS handle or a name)."""
    return number.replace("-", "") if re.fullmatch(r"[0-9-]{6,}", number) else None


def crisis_lines(value: Any) -> list[dict[str, str]]:
    """Crisis lines as every surface reads them: ``{name, name_en, number, hours}``.

    Entries stored before ``name_en`` and ``hours`` existed (``{name, number}``) still load:
    the missing fields are empty, and an empty ``name_en`` shows the Japanese name.
    """
    lines = value if isinstance(value, list) else []
    return [
        {key: str(line.get(key) or "").strip() for key in CRISIS_FIELDS}
        for line in lines
        if isinstance(line, dict) and line.get("name") and line.get("number")
    ]


_HOURS_EN = (
    (re.compile(r"24時間"), "24 hours"),
    (re.compile(r"(\d{1,2})時(\d{1,2})分"), r"\1:\2"),
    (re.compile(r"(\d{1,2})〜(\d{1,2})時"), r"\1:00-\2:00"),
    (re.compile(r"(\d{1,2})時"), r"\1:00"),
    (re.compile(r"[〜～]"), "-"),
    (re.compile(r"毎日"), "daily "),
    (re.compile(r"平日"), "weekdays "),
    (re.compile(r"[、，]"), ", "),
    (re.compile(r"\u3000"), " "),
)


def hours_en(hours: str) -> str:
    """Opening hours for the English form: 「10時〜22時」 as 10:00-22:00, 「24時間」 as 24 hours;
    anything else as given (Japanese beats a wrong translation)."""
    text = hours
    for pattern, replacement in _HOURS_EN:
        text = pattern.sub(replacement, text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if text.isascii() else hours


@dataclass(frozen=True, slots=True)
class Contact:
    """Who runs the study and how residents reach them (study settings ``organisation``,
    ``section``, ``office_address``, ``office_phone``, ``office_hours``)."""

    organisation: str = ""
    section: str = ""
    address: str = ""
    phone: str = ""
    hours: str = ""

    @classmethod
    def of(cls, values: dict[str, Any]) -> Contact:
        def get(key: str) -> str:
            return str(values.get(key) or "").strip()

        return cls(
            get("organisation"),
            get("section"),
            get("office_address"),
            get("office_phone"),
            get("office_hours"),
        )

    @property
    def name(self) -> str:
        """「志木市 健康政策課」: the organisation and the section in charge."""
        return " ".join(p for p in (self.organisation, self.section) if p)

    @property
    def given(self) -> bool:
        return bool(self.name or self.phone)

    def phone_line(self) -> str:
        """「電話 048-473-1111（平日 8時30分〜17時15分）」, or empty."""
        if not self.phone:
            return ""
        return f"電話 {self.phone}" + (f"（{self.hours}）" if self.hours else "")

    def sender_lines(self) -> list[str]:
        """The sender block (差出人) of a postcard or envelope: address, name, phone."""
        return [line for line in (self.address, self.name, self.phone_line()) if line]


def defaults() -> dict[str, Any]:
    return {
        "title": DEFAULT_TITLE,
        "title_en": DEFAULT_TITLE_EN,
        "crisis_lines": DEFAULT_CRISIS_LINES,
        "web_cohorts": [],
        "fieldwork_end": None,
        "fieldwork_grace_days": DEFAULT_GRACE_DAYS,
        "organisation": "",
        "section": "",
        "office_address": "",
        "office_phone": "",
        "office_hours": "",
    }
