"""Studies and their settings.

A study owns everything: its draw, roster, codes, answers. Settings have defaults, are
changed with ``survey study set KEY=VALUE`` and are stored as JSON with the study; the draw
copies the values it used, so later changes never alter how a past draw is verified.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, select

from survey.cohorts import COHORTS
from survey.errors import DataError, UsageError
from survey.models import Study
from survey.public import (
    CRISIS_FIELDS,
    DEFAULT_CRISIS_LINES,
    DEFAULT_GRACE_DAYS,
    DEFAULT_TITLE,
    DEFAULT_TITLE_EN,
    crisis_lines,
)
from survey.register.dates import DateFormatError, parse_date
from survey.sampling.cohorts import DEFAULT_DRAW_ORDER, FrameRules
from survey.settings import check_study_name

DEFAULT_STUDY = "default"
POSTAGE_MARKS = ("none", "後納", "別納")


def _date(text: str) -> str:
    try:
        return parse_date(text).isoformat()
    except DateFormatError as exc:
        raise ValueError(f"{exc.ja} / {exc.en}") from exc


def _cohort_list(text: str) -> list[str]:
    items = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in items if c not in COHORTS]
    if unknown:
        raise ValueError(f"unknown cohort(s): {', '.join(unknown)}; known: {', '.join(COHORTS)}")
    return items


def _draw_order(text: str) -> list[str]:
    items = _cohort_list(text)
    if sorted(items) != sorted(COHORTS):
        raise ValueError(f"must list each cohort exactly once: {', '.join(COHORTS)}")
    return items


def _whole(text: str) -> int:
    # Said in plain words: Python's own reason ("invalid literal for int() with base 10")
    # would reach the person typing the setting.
    if not (text.strip().isascii() and text.strip().lstrip("-").isdigit()):
        raise ValueError(f"not a whole number: {text.strip()!r}")
    return int(text)


def _positive_int(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise ValueError("must be a positive integer")
    return value


def _non_negative_int(text: str) -> int:
    value = _whole(text)
    if value < 0:
        raise ValueError("must be a non-negative integer")
    return value


def _int_list(text: str) -> list[int]:
    return sorted({_positive_int(x) for x in text.split(",") if x.strip()})


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}")
        return text

    return parse


def _crisis_lines(text: str) -> list[dict[str, str]]:
    """A JSON list of ``{name, number}`` with optional ``name_en`` (the English form's name)
    and ``hours`` (受付時間, printed where known)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not (
        isinstance(value, list)
        and value
        and all(
            isinstance(v, dict)
            and {"name", "number"} <= v.keys()
            and set(v) <= set(CRISIS_FIELDS)
            and all(isinstance(x, str) for x in v.values())
            and all(v[k].strip() for k in ("name", "number"))
            for v in value
        )
    ):
        raise ValueError(
            'a JSON list like [{"name": "...", "name_en": "...", "number": "...", "hours": "..."}]'
            " (name and number required)"
        )
    return crisis_lines(value)


def _targets(text: str) -> dict[str, float]:
    """``general=35%,high_school=0.2``: a target response rate per cohort (dashboard lines)."""
    out: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        cohort, sep, raw = part.partition("=")
        cohort, raw = cohort.strip(), raw.strip()
        if not sep or cohort not in COHORTS:
            raise ValueError(f"COHORT=RATE pairs with a cohort of {', '.join(COHORTS)}")
        number = raw[:-1] if raw.endswith("%") else raw
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", number):
            raise ValueError(f"{cohort}: not a rate: {raw!r}")
        value = float(number) / 100 if raw.endswith("%") else float(number)
        if not 0 < value <= 1:
            raise ValueError("a rate is between 0 and 1 (or 0% and 100%)")
        out[cohort] = value
    return out


@dataclass(frozen=True, slots=True)
class SettingSpec:
    default: Any
    parse: Callable[[str], Any]
    help: str


SETTINGS: dict[str, SettingSpec] = {
    "title": SettingSpec(DEFAULT_TITLE, str.strip, "調査の表示名 (title shown to respondents)"),
    "title_en": SettingSpec(
        DEFAULT_TITLE_EN,
        str.strip,
        "調査の英語の表示名 (English title, on forms that offer English)",
    ),
    "as_of": SettingSpec(None, _date, "基準日 D (reference date of the draw)"),
    "fieldwork_start": SettingSpec(None, _date, "調査開始日 (fieldwork start)"),
    "fieldwork_end": SettingSpec(None, _date, "調査終了日 (fieldwork end)"),
    "fieldwork_grace_days": SettingSpec(
        DEFAULT_GRACE_DAYS,
        _non_negative_int,
        "終了日後もWeb回答を受け付ける日数 (days the web still accepts answers after the end)",
    ),
    "web_cohorts": SettingSpec(
        ["elementary_guardian", "high_school", "general"],
        _cohort_list,
        "Web回答できる対象 (cohorts that may answer on the web)",
    ),
    "school_cohorts": SettingSpec(
        ["elementary_guardian"],
        _cohort_list,
        "学校経由で配布する対象 (cohorts whose envelopes go out through schools)",
    ),
    "infant_frame": SettingSpec(
        "preschool",
        _choice("preschool", "checkup"),
        "乳幼児の枠: preschool (未就学児) か checkup (健診対象児)",
    ),
    "checkup_ages": SettingSpec(
        [4, 18, 36], _int_list, "健診の月齢 (check-up ages in months, comma-separated)"
    ),
    "general_min_age": SettingSpec(18, _positive_int, "一般市民の最低年齢 (minimum age)"),
    "draw_order": SettingSpec(list(DEFAULT_DRAW_ORDER), _draw_order, "抽出順 (draw order)"),
    "districts": SettingSpec(
        ["上宗岡", "中宗岡", "下宗岡", "本町", "幸町", "館", "柏町"],
        lambda text: [d.strip() for d in text.split(",") if d.strip()],
        "地区（町名）の一覧 (district names for the aggregate frame counts)",
    ),
    "crisis_lines": SettingSpec(
        DEFAULT_CRISIS_LINES,
        _crisis_lines,
        "相談窓口 (crisis lines: JSON list of {name, name_en, number, hours})",
    ),
    "response_targets": SettingSpec(
        {}, _targets, "目標回答率 (target response rates, e.g. general=35%,high_school=20%)"
    ),
    "organisation": SettingSpec("", str.strip, "実施機関（例 志木市） (organisation running it)"),
    "section": SettingSpec("", str.strip, "担当課 (section in charge)"),
    "office_address": SettingSpec(
        "", str.strip, "担当課の所在地（〒・住所） (the office's postal address)"
    ),
    "office_phone": SettingSpec("", str.strip, "問い合わせ電話番号 (enquiry phone number)"),
    "office_hours": SettingSpec("", str.strip, "問い合わせ受付時間 (enquiry hours)"),
    "postage_mark": SettingSpec(
        "none",
        _choice(*POSTAGE_MARKS),
        "はがきの料金表示: none（切手・料額印面つき）, 後納（料金後納）, 別納（料金別納）"
        " (postage mark on postcards)",
    ),
    "postage_permit": SettingSpec(
        "", str.strip, "料金後納・別納の差出事業所名（例 志木郵便局） (post office of the permit)"
    ),
    "keying": SettingSpec(
        "double",
        _choice("double", "single"),
        "紙の入力: double（二人で二重入力・照合）か single（一人、確認の警告つき） (paper keying)",
    ),
    "published_on": SettingSpec(
        None, _date, "報告書の公表日（表紙に令和で印字） (publication date of the report)"
    ),
    "reminder_on": SettingSpec(None, _date, "督促状（礼状兼督促）の発送日 (reminder date)"),
    "purpose": SettingSpec("", str.strip, "調査の目的（報告書の第1章） (purpose of the study)"),
    "suppression_threshold": SettingSpec(
        10, _positive_int, "秘匿の閾値 (minimum respondents behind a published figure)"
    ),
}


def effective_settings(study: Study) -> dict[str, Any]:
    values = {key: study.settings.get(key, spec.default) for key, spec in SETTINGS.items()}
    # Lines stored before name_en and hours existed read as the current format.
    values["crisis_lines"] = crisis_lines(values["crisis_lines"])
    return values


def parse_assignment(assignment: str) -> tuple[str, Any]:
    key, sep, raw = assignment.partition("=")
    key = key.strip()
    if not sep or key not in SETTINGS:
        raise UsageError(
            f"設定は KEY=VALUE の形で、KEY は {', '.join(SETTINGS)} のいずれかです: {key}",
            f"Settings are KEY=VALUE with KEY one of {', '.join(SETTINGS)}: {key!r}",
        )
    try:
        return key, SETTINGS[key].parse(raw.strip())
    except (ValueError, json.JSONDecodeError) as exc:
        # Python's reason is English: it goes on the English line only.
        raise UsageError(
            f"{key} の値が不正です（{raw.strip()}）。{SETTINGS[key].help}",
            f"Invalid value for {key}: {exc}",
        ) from exc


def check_consistent(values: dict[str, Any]) -> None:
    start, end = values.get("fieldwork_start"), values.get("fieldwork_end")
    if start and end and start > end:
        raise UsageError(
            "調査開始日が終了日より後です。", "fieldwork_start is after fieldwork_end."
        )


def frame_rules(values: dict[str, Any], as_of: date) -> FrameRules:
    def opt_date(key: str) -> date | None:
        v = values.get(key)
        return date.fromisoformat(v) if v else None

    return FrameRules(
        as_of=as_of,
        general_min_age=int(values["general_min_age"]),
        infant_frame=str(values["infant_frame"]),
        checkup_ages=tuple(int(x) for x in values["checkup_ages"]),
        fieldwork_start=opt_date("fieldwork_start"),
        fieldwork_end=opt_date("fieldwork_end"),
    )


# --- persistence --------------------------------------------------------------------------


check_name = check_study_name


def create_study(session: Session, name: str, assignments: Sequence[tuple[str, Any]] = ()) -> Study:
    check_name(name)
    if session.exec(select(Study).where(Study.name == name)).first() is not None:
        raise UsageError(f"調査 {name} はすでにあります。", f"Study {name!r} already exists.")
    values = dict(assignments)
    check_consistent(values)
    study = Study(name=name, settings=values, created_on=date.today())
    session.add(study)
    session.flush()
    return study


def update_settings(
    session: Session, study: Study, assignments: Sequence[tuple[str, Any]]
) -> Study:
    values = dict(study.settings)
    values.update(assignments)
    check_consistent({**effective_settings(study), **values})
    study.settings = values  # a new dict, so SQLAlchemy sees the change
    session.add(study)
    session.flush()
    return study


def list_studies(session: Session) -> list[Study]:
    return list(session.exec(select(Study).order_by(Study.name)).all())


def resolve_study(
    session: Session, name: str | None, create_with_as_of: date | None = None
) -> Study:
    """The named study; else the only one; else create ``default`` if allowed."""
    if name:
        study = session.exec(select(Study).where(Study.name == name)).first()
        if study is None:
            raise UsageError(f"調査 {name} がありません。", f"No study named {name!r}.")
        return study
    studies = list_studies(session)
    if len(studies) == 1:
        return studies[0]
    if len(studies) > 1:
        names = ", ".join(s.name for s in studies)
        raise UsageError(
            f"調査が複数あります。--study で指定してください: {names}",
            f"Several studies exist; choose one with --study: {names}",
        )
    if create_with_as_of is None:
        raise UsageError(
            "調査がありません。survey study create NAME --as-of DATE で作成してください。",
            "No study yet: create one with `survey study create NAME --as-of DATE`.",
        )
    return create_study(session, DEFAULT_STUDY, [("as_of", create_with_as_of.isoformat())])


def require_as_of(study: Study, given: date | None) -> date:
    recorded = study.settings.get("as_of")
    if given is not None and recorded and date.fromisoformat(recorded) != given:
        raise UsageError(
            f"調査 {study.name} の基準日は {recorded} です（--as-of {given} と違います）。"
            " 変更は survey study set as_of=DATE で。",
            f"Study {study.name!r} has reference date {recorded}, not {given};"
            " change it with `survey study set as_of=DATE`.",
        )
    if recorded:
        return date.fromisoformat(recorded)
    if given is None:
        raise DataError(
            "基準日がありません。--as-of DATE を指定してください。",
            "No reference date: give --as-of DATE.",
        )
    study.settings = {**study.settings, "as_of": given.isoformat()}
    return given
