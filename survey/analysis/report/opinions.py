"""第2章 自由意見: per free-text item of the report's questionnaires, its question, the coded
counts (category × cohort) and the approved redacted excerpts, each quoted with its cohort.

Only what :class:`survey.analysis.opinions.Published` holds reaches the page or the assets:
the counts already suppressed (＊) under the study threshold and the excerpts the analyst
approved, in their redacted wording. The original answers are never read here. Every text
that people typed (category names, excerpts) is escaped before reportlab parses it.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import pandas as pd
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph

from survey.analysis import opinions
from survey.analysis.opinions import Published
from survey.analysis.report.assets import Outputs
from survey.analysis.report.overview import frame_table
from survey.analysis.report.results import Numbers
from survey.analysis.report.style import Heading, Styles
from survey.forms.codebook import TEXT_TYPES
from survey.forms.loader import Form

INTRO = (
    "自由記述の設問に寄せられた意見を内容によって分類し、分類ごとの件数を対象別に示します。"
    "あわせて、意見の一部を紹介します。紹介する意見は、書いた人や周りの人が特定されないよう"
    "表現を編集したもので、原文のままではありません。"
)
NO_CODING = "この設問の意見は分類していないため、件数は掲載していません。"
NO_EXCERPTS = "この設問について、紹介できる意見はありません。"
EXCERPTS_HEADING = "寄せられた意見（抜粋）"


def items(forms: dict[str, Form]) -> list[str]:
    """The free-text items of the report's questionnaires, in form order, each once."""
    out: list[str] = []
    for form in forms.values():
        for var in form.variables():
            if var.type in TEXT_TYPES and var.id not in out:
                out.append(var.id)
    return out


def _escaped(frame: pd.DataFrame) -> pd.DataFrame:
    shown = frame.astype(object).copy()
    shown["分類"] = [escape(str(v)) for v in shown["分類"]]
    return shown


def _counts(
    variable: str, frame: pd.DataFrame, styles: Styles, nums: Numbers, outputs: Outputs
) -> list[Flowable]:
    caption = nums.table()
    notes = opinions.counts_notes(frame)
    outputs.table(caption, opinions.counts_title(variable), frame, notes)
    # A column per cohort, no wider than a count needs (one cohort: not the page's width).
    rest = min(26 * mm, (170 - 62) * mm / max(1, len(frame.columns) - 1))
    widths = [62 * mm, *[rest] * (len(frame.columns) - 1)]
    return [
        KeepTogether(
            [
                Paragraph(f"{caption}　分類別の件数", styles.caption),
                frame_table(_escaped(frame), styles, {}, widths),
                *(Paragraph(note, styles.note) for note in notes),
            ]
        )
    ]


def _excerpts(rows: pd.DataFrame, styles: Styles) -> list[Flowable]:
    out: list[Flowable] = [Paragraph(EXCERPTS_HEADING, styles.cell_head)]
    if rows.empty:
        return [*out, Paragraph(NO_EXCERPTS, styles.plain)]
    for text, cohort in zip(rows["意見（編集済み）"], rows["対象"], strict=True):
        out.append(Paragraph(f"「{escape(str(text))}」（{escape(str(cohort))}）", styles.quote))
    return out


def section(
    published: Published | None,
    forms: dict[str, Form],
    styles: Styles,
    nums: Numbers,
    outputs: Outputs,
    number: int,
) -> list[Flowable]:
    """The section numbered ``number``; nothing when no questionnaire has a free-text item."""
    variables = items(forms)
    if not variables:
        return []
    counts = published.counts if published is not None else {}
    excerpts = published.excerpts if published is not None else opinions.empty_excerpts()
    out: list[Flowable] = [Heading(f"{number}　自由意見", styles.h2, 1, "ch2-opinions")]
    out.append(Paragraph(INTRO, styles.body))
    for variable in variables:
        out.append(Paragraph(f"■ {escape(opinions.question_text(variable))}", styles.h3))
        frame = counts.get(variable)
        if frame is None:
            out.append(Paragraph(NO_CODING, styles.plain))
        else:
            out += _counts(variable, frame, styles, nums, outputs)
        out += _excerpts(excerpts[excerpts["設問"] == variable], styles)
    shown = excerpts[excerpts["設問"].isin(variables)].copy()
    shown["設問"] = [opinions.question_text(v) for v in shown["設問"]]
    title = opinions.EXCERPTS_TITLE
    outputs.table(title, title, shown, [opinions.EXCERPTS_NOTE])
    return out
