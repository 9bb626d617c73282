"""What every respondent-facing surface shows unless the study says otherwise.

Core (both sides): the office's study settings default to these, and the collector shows
them before any study is installed, so even its "not open yet" page lists the crisis lines.
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_TITLE = "こころの健康に関する市民意識調査"
DEFAULT_TITLE_EN = "Citizens' survey on mental health"

DEFAULT_CRISIS_LINES: list[dict[str, str]] = [
    {"name": "こころの健康相談統一ダイヤル", "number": "0570-064-556"},
    {"name": "よりそいホットライン", "number": "0120-279-338"},
    {"name": "いのちの電話", "number": "0570-783-556"},
    {"name": "#いのちSOS", "number": "0120-061-338"},
    {"name": "こころのほっとチャット（SNS相談）", "number": "LINE・X・Facebook @kokorohotchat"},
    {"name": "24時間子供SOSダイヤル", "number": "0120-0-78310"},
]

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
    "office_phone",
    "office_hours",
)
DEFAULT_GRACE_DAYS = 14


def tel(number: str) -> str | None:
    """A ``tel:`` target for a phone number (None for an SNS handle or a name)."""
    return number.replace("-", "") if re.fullmatch(r"[0-9-]{6,}", number) else None


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
        "office_phone": "",
        "office_hours": "",
    }
