"""Free-text opinions (自由意見): categories per study, coding, redaction and approval.

The original text never leaves the office database. What may leave the analysis:
- coded counts per item × cohort, under the same threshold rule as every other table
  (:func:`survey.analysis.disclosure.is_primary`), and
- redacted excerpts the analyst approved.

"Redacted" is enforced as: the analyst saved a redacted version (it is what is published,
never the original), and approval is refused while the identifier check flags it unless the
analyst confirms having reviewed the flags (the check warns; the human decides).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pandas as pd
from sqlmodel import Session, col, func, select

from survey import audit
from survey.analysis.disclosure import MARK, is_primary
from survey.analysis.tables import Cell
from survey.cohorts import COHORT_LABELS
from survey.forms.loader import load_forms
from survey.forms.schema import Item
from survey.models import FreeText, OpinionCategory, OpinionCoding, Response, Study

FOOTNOTE = "＊ 秘匿（該当する意見が少ないため、または他の数値から計算できないように非表示）"
MULTI_NOTE = "一つの意見が複数の分類に入ることがあります。合計の行はありません。"
EXCERPT_COLUMNS = ["設問", "対象", "分類", "意見（編集済み）"]
EXCERPTS_TITLE = "自由意見（抜粋）"
EXCERPTS_NOTE = "個人が特定されないよう編集し、公表可とした意見のみ。原文ではありません。"

# Patterns that often identify a person or a place; a hit is a warning for the analyst.
IDENTIFIER_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("数字の連続（電話番号・番地など）", re.compile(r"[0-9０-９]{2,}")),
    ("電話番号", re.compile(r"[0-9０-９]{2,4}[-－ー‐][0-9０-９]{2,4}[-－ー‐][0-9０-９]{3,4}")),
    (
        "住所（丁目・番地・号）",
        re.compile(r"丁目|番地|[0-9０-９一二三四五六七八九十]+番|[0-9０-９]+号"),
    ),
    ("地名（町・村・字）", re.compile(r"\w{1,6}(町|村|字|区)(?!内|会)")),
    ("人名の敬称（さん・様・先生など）", re.compile(r"\w(さん|様|さま|君|くん|ちゃん|先生|氏)")),
    ("学校・施設名", re.compile(r"\w+(小学校|中学校|高校|高等学校|病院|保育園|幼稚園)")),
    ("メールアドレス・URL", re.compile(r"@|https?://")),
)


class OpinionError(ValueError):
    """A coding or approval the rules refuse (shown to the analyst)."""


def identifier_flags(text: str) -> list[str]:
    """The kinds of likely identifier found in ``text`` (the text itself is not returned)."""
    return [label for label, pattern in IDENTIFIER_PATTERNS if pattern.search(text)]


# --- categories ------------------------------------------------------------------------------


def question_text(variable: str) -> str:
    """The free-text item's question as the forms word it (the variable id if none does)."""
    for form in load_forms().values():
        for section in form.sections:
            for entry in section.items:
                if isinstance(entry, Item) and entry.id == variable:
                    return entry.text.ja
    return variable


def categories(session: Session, study: Study) -> list[OpinionCategory]:
    query = select(OpinionCategory).where(OpinionCategory.study_id == study.id)
    return list(session.exec(query.order_by(col(OpinionCategory.id))))


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64:
        raise OpinionError("分類名は1〜64文字で入力してください。")
    return name


def add_category(session: Session, study: Study, name: str, actor: str) -> OpinionCategory:
    name = _clean_name(name)
    if any(c.name == name for c in categories(session, study)):
        raise OpinionError("同じ名前の分類があります。")
    assert study.id is not None
    cat = OpinionCategory(study_id=study.id, name=name)
    session.add(cat)
    session.flush()
    audit.append(session, actor, "opinion.category.add", {"study": study.name, "category": cat.id})
    return cat


def rename_category(
    session: Session, study: Study, category_id: int, name: str, actor: str
) -> OpinionCategory:
    name = _clean_name(name)
    cat = session.get(OpinionCategory, category_id)
    if cat is None or cat.study_id != study.id:
        raise OpinionError("分類が見つかりません。")
    if any(c.name == name and c.id != cat.id for c in categories(session, study)):
        raise OpinionError("同じ名前の分類があります。")
    cat.name = name
    session.add(cat)
    audit.append(
        session, actor, "opinion.category.rename", {"study": study.name, "category": cat.id}
    )
    return cat


# --- answers ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Answer:
    text: FreeText
    cohort: str
    coding: OpinionCoding | None


def answers(
    session: Session,
    study: Study,
    variable: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> list[Answer]:
    """The study's answers (of ``variable``), in a fixed order; ``offset``/``limit``: a page."""
    query = (
        select(FreeText, Response.cohort, OpinionCoding)
        .join(Response, col(Response.id) == col(FreeText.response_id))
        .outerjoin(OpinionCoding, col(OpinionCoding.free_text_id) == col(FreeText.id))
        .where(Response.study_id == study.id)
    )
    if variable is not None:
        query = query.where(FreeText.variable == variable)
    query = query.order_by(col(FreeText.variable), col(FreeText.id)).offset(offset)
    rows = session.exec(query.limit(limit) if limit is not None else query)
    return [Answer(t, cohort, coding) for t, cohort, coding in rows]


def count_answers(session: Session, study: Study, variable: str) -> int:
    query = (
        select(func.count())
        .select_from(FreeText)
        .join(Response, col(Response.id) == col(FreeText.response_id))
        .where(Response.study_id == study.id, FreeText.variable == variable)
    )
    return int(session.exec(query).one())


def progress(session: Session, study: Study) -> list[tuple[str, int, int, int]]:
    """Per item: (variable, coded, approved, total)."""
    out: dict[str, list[int]] = {}
    for a in answers(session, study):
        row = out.setdefault(a.text.variable, [0, 0, 0])
        row[0] += a.coding is not None and bool(a.coding.categories)
        row[1] += a.coding is not None and a.coding.approved_by is not None
        row[2] += 1
    return [(v, *r) for v, r in sorted(out.items())]  # type: ignore[misc]


def _answer(session: Session, study: Study, free_text_id: int) -> FreeText:
    text = session.get(FreeText, free_text_id)
    response = session.get(Response, text.response_id) if text else None
    if text is None or response is None or response.study_id != study.id:
        raise OpinionError("回答が見つかりません。")
    return text


def code(
    session: Session,
    study: Study,
    free_text_id: int,
    category_ids: list[int],
    redacted: str | None,
    actor: str,
) -> OpinionCoding:
    """Save the categories and the redacted version of one answer. A changed redaction
    withdraws an approval: what was approved is no longer what would be published."""
    text = _answer(session, study, free_text_id)
    known = {c.id for c in categories(session, study)}
    if not set(category_ids) <= known:
        raise OpinionError("分類が見つかりません。")
    redacted = (redacted or "").strip() or None
    coding = session.exec(
        select(OpinionCoding).where(OpinionCoding.free_text_id == free_text_id)
    ).first() or OpinionCoding(free_text_id=free_text_id, coded_by=actor)
    if coding.redacted != redacted:
        coding.approved_by = None
    coding.categories = sorted(set(category_ids))
    coding.redacted = redacted
    coding.coded_by = actor
    session.add(coding)
    session.flush()
    # Ids and counts only: the audit log is read by other roles, the answer text is not.
    audit.append(
        session,
        actor,
        "opinion.code",
        {
            "study": study.name,
            "free_text": text.id,
            "categories": coding.categories,
            "redacted": redacted is not None,
        },
    )
    return coding


def approve(
    session: Session, study: Study, free_text_id: int, actor: str, flags_reviewed: bool
) -> OpinionCoding:
    """Mark the redacted excerpt publishable."""
    text = _answer(session, study, free_text_id)
    coding = session.exec(
        select(OpinionCoding).where(OpinionCoding.free_text_id == free_text_id)
    ).first()
    if coding is None or coding.redacted is None:
        raise OpinionError("編集（匿名化）した文を保存してから公表可にしてください。")
    if coding.redacted == text.text.strip() and not flags_reviewed:
        raise OpinionError(
            "原文のままです。原文に個人を特定できる内容がないことを確認してください。"
        )
    flags = identifier_flags(coding.redacted)
    if flags and not flags_reviewed:
        raise OpinionError("特定につながるおそれのある表現があります: " + "、".join(flags))
    coding.approved_by = actor
    session.add(coding)
    audit.append(
        session,
        actor,
        "opinion.approve",
        {"study": study.name, "free_text": text.id, "flags": len(flags)},
    )
    return coding


def withdraw(session: Session, study: Study, free_text_id: int, actor: str) -> None:
    _answer(session, study, free_text_id)
    coding = session.exec(
        select(OpinionCoding).where(OpinionCoding.free_text_id == free_text_id)
    ).first()
    if coding is not None and coding.approved_by is not None:
        coding.approved_by = None
        session.add(coding)
        audit.append(
            session, actor, "opinion.withdraw", {"study": study.name, "free_text": free_text_id}
        )


# --- what leaves the analysis ----------------------------------------------------------------


def _cell(n: int, domain_n: int) -> Cell:
    nan = math.nan
    return Cell("", n, nan, nan, nan, (), False, domain_n, False)


def counts_tables(session: Session, study: Study, threshold: int) -> dict[str, pd.DataFrame]:
    """Per item, categories × cohort counts of coded answers, suppressed as ＊ by the study
    threshold. No total row is published and a column with one suppressed count gets a
    second one, so a suppressed count is not the difference of published figures even where
    every answer sits in exactly one category."""
    cats = categories(session, study)
    tables: dict[str, pd.DataFrame] = {}
    by_item: dict[str, list[Answer]] = {}
    for a in answers(session, study):
        if a.coding is not None and a.coding.categories:
            by_item.setdefault(a.text.variable, []).append(a)
    for variable, coded in by_item.items():
        cohorts = sorted({a.cohort for a in coded})
        frame: dict[str, list[object]] = {"分類": [c.name for c in cats]}
        for cohort in cohorts:
            mine = [a for a in coded if a.cohort == cohort]
            counts = [
                sum(1 for a in mine if c.id in (a.coding.categories if a.coding else []))
                for c in cats
            ]
            hidden = [is_primary(_cell(n, len(mine)), threshold) for n in counts]
            if sum(hidden) == 1:
                open_ = [i for i, h in enumerate(hidden) if not h and counts[i] > 0]
                if open_:
                    hidden[min(open_, key=lambda i: counts[i])] = True
            label = COHORT_LABELS.get(cohort, cohort)
            frame[label] = [MARK if h else n for n, h in zip(counts, hidden, strict=True)]
        tables[variable] = pd.DataFrame(frame)
    return tables


def approved_excerpts(session: Session, study: Study) -> pd.DataFrame:
    """The approved redacted excerpts (never the original), with item, cohort and categories."""
    names = {c.id: c.name for c in categories(session, study)}
    rows = [
        {
            "設問": a.text.variable,
            "対象": COHORT_LABELS.get(a.cohort, a.cohort),
            "分類": "・".join(names[i] for i in a.coding.categories if i in names),
            "意見（編集済み）": a.coding.redacted,
        }
        for a in answers(session, study)
        if a.coding is not None and a.coding.approved_by is not None and a.coding.redacted
    ]
    return pd.DataFrame(rows, columns=EXCERPT_COLUMNS)


def empty_excerpts() -> pd.DataFrame:
    return pd.DataFrame([], columns=EXCERPT_COLUMNS)


def counts_title(variable: str) -> str:
    return f"自由意見の分類別件数: {question_text(variable)}"


def counts_notes(frame: pd.DataFrame) -> list[str]:
    """The lines under a published counts table (after its title)."""
    hidden = any(v == MARK for v in frame.drop(columns="分類").to_numpy().ravel())
    return [MULTI_NOTE, *([FOOTNOTE] if hidden else [])]


@dataclass(slots=True)
class Published:
    """Everything of the free text that may leave the analysis."""

    counts: dict[str, pd.DataFrame]
    excerpts: pd.DataFrame


def published(session: Session, study: Study, threshold: int) -> Published:
    return Published(counts_tables(session, study, threshold), approved_excerpts(session, study))
