"""第2章 結果: per cohort and question block, each item's chart and published table.

Only published figures reach the page: the tables are :func:`disclosure.published_frame`
(suppressed cells already ＊), the charts those of survey.analysis.charts (which draw no
suppressed bar), and the one sentence per item names the largest *published* category.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer

from survey.analysis import charts, disclosure
from survey.analysis.blocks import blocks as item_blocks
from survey.analysis.report import crosstab
from survey.analysis.report.assets import Outputs
from survey.analysis.report.overview import frame_table
from survey.analysis.report.style import Heading, Styles
from survey.analysis.tables import BY_LABELS, UNKNOWN_NOTE, Analysis, Table, group_label
from survey.cohorts import COHORT_LABELS

IMAGE_WIDTH = 160 * mm


class Numbers:
    """Running figure and table numbers of a chapter (図2-1, 表2-1)."""

    def __init__(self, chapter: int) -> None:
        self.chapter = chapter
        self.figures = 0
        self.tables = 0

    def figure(self) -> str:
        self.figures += 1
        return f"図{self.chapter}-{self.figures}"

    def table(self) -> str:
        self.tables += 1
        return f"表{self.chapter}-{self.tables}"


def sentence(table: Table, options: set[str]) -> str:
    """The largest published category, stated without interpretation."""
    best: list[tuple[float, str]] = []
    for label, row in zip(table.rows, table.cells, strict=True):
        cell = row[0]
        if label not in options or cell is None or cell.suppressed or math.isnan(cell.pct):
            continue
        best.append((round(cell.pct, 1), label))
    if not best:
        return "公表できる数値がないため、説明を省略します。"
    top = max(p for p, _ in best)
    names = "」「".join(label for p, label in best if p == top)
    tied = sum(1 for p, _ in best if p == top) > 1
    verb = "を選んだ人の割合" if table.kind == "multi" else ""
    # A hidden category may be larger than every shown one: then the claim is about the
    # shown ones only, and says so.
    hidden = any(
        label in options and cell is not None and cell.suppressed
        for label, (cell, *_) in zip(table.rows, table.cells, strict=True)
    )
    scope = "表示している区分では、" if hidden else ""
    return f"{scope}「{names}」{verb}が{'同率で' if tied else ''}最も高く、{top:.1f}%でした。"


_FORMATS = {"%": "{:.1f}", "95%CI下限": "{:.1f}", "95%CI上限": "{:.1f}"}


def _formats(columns: list[str]) -> dict[str, str]:
    return {c: "{:.1f}" for c in columns if any(c.endswith(k) for k in _FORMATS)}


def _number(f: str, v: Any) -> Any:
    if not isinstance(v, float):
        return v  # ＊, "" or a count
    return "－" if math.isnan(v) else f.format(v)  # no one in the row: no share


def printed(frame: pd.DataFrame, formats: dict[str, str]) -> pd.DataFrame:
    """A ＊ or "" stays as it is; numbers are formatted as the CSVs round them."""
    frame = frame.astype(object)
    for col, f in formats.items():
        frame[col] = [_number(f, v) for v in frame[col]]
    return frame


def published(table: Table, styles: Styles, caption: str, outputs: Outputs) -> list[Flowable]:
    frame = disclosure.published_frame(table)
    shown = printed(frame, _formats(list(frame.columns)))
    notes = [disclosure.FOOTNOTE] if any(c.suppressed for c in table.all_cells()) else []
    outputs.table(caption, table.title, frame, notes)
    out: list[Flowable] = [Paragraph(f"{caption}　{table.title}", styles.caption)]
    rest = (170 - 62) * mm / max(1, len(frame.columns) - 1)
    out.append(frame_table(shown, styles, {}, [62 * mm, *[rest] * (len(frame.columns) - 1)]))
    out += [Paragraph(note, styles.note) for note in notes]
    return out


def cross(table: Table, styles: Styles, caption: str, outputs: Outputs) -> list[Flowable]:
    """A cross-tab (% by group) with its published Rao–Scott test."""
    frame = crosstab.page_frame(table)
    numbers = [str(c) for c in frame.columns[1:] if str(c) != crosstab.N_COLUMN]
    shown = printed(frame, {c: "{:.1f}" for c in numbers})
    notes = ["割合（%）は各区分の回答者数に対する重み付け推計値"]
    if table.has_unknown:
        notes.append(UNKNOWN_NOTE)
    if any(c.suppressed for c in table.all_cells()):
        notes.append(disclosure.FOOTNOTE)
    test = crosstab.test_sentence(table)
    if test:
        notes.insert(0, test)
    elif table.test is not None:
        notes.insert(0, "検定の結果は、秘匿した数値から計算されるため掲載していません。")
    outputs.table(caption, table.title, frame, notes)
    first = 30 * mm
    rest = (170 * mm - first) / max(1, len(frame.columns) - 1)
    out: list[Flowable] = [Paragraph(f"{caption}　{table.title}", styles.caption)]
    out.append(frame_table(shown, styles, {}, [first, *[rest] * (len(frame.columns) - 1)]))
    out += [Paragraph(note, styles.note) for note in notes]
    return out


def blocks(analysis: Analysis, cohort: str) -> list[tuple[str, list[Table]]]:
    """The cohort's frequency tables grouped by the form's sections, in form order."""
    return [(b.title, [i.table for i in b.items]) for b in item_blocks(analysis, cohort)]


def chapter(
    analysis: Analysis,
    values: dict[str, Any],
    styles: Styles,
    outputs: Outputs,
    progress: Callable[[int, int], None],
    after: Callable[[Numbers, int], list[Flowable]] | None = None,
) -> list[Flowable]:
    """``after``: a section after the cohorts' (自由意見), given the running numbers and its
    section number; nothing when it returns nothing."""
    nums = Numbers(2)
    out: list[Flowable] = [Heading("第2章　調査の結果", styles.h1, 0, "ch2")]
    summary = [t for t in analysis.tables if t.kind == "summary"]
    if summary:
        out.append(Heading("1　主な指標（K6・自殺念慮）", styles.h2, 1, "ch2-0"))
        out.append(
            Paragraph(
                "こころの状態（K6の合計点）と自殺念慮の割合を対象ごとに示します。",
                styles.body,
            )
        )
        for t in summary:
            out.append(Paragraph(f"■ {t.title}", styles.h3))
            if any(not c.suppressed for c in t.all_cells()):
                number = nums.figure()
                chart = outputs.chart(number, t.title, charts.interval_chart(t), IMAGE_WIDTH)
                caption = Paragraph(f"{number}　{t.title}（95%信頼区間つき）", styles.caption)
                out.append(KeepTogether([chart, caption]))
            out += headline_sentences(t, styles)
            out += published(t, styles, nums.table(), outputs)
    cohorts = [c for c in COHORT_LABELS if any(t.group == c for t in analysis.tables)]
    total = sum(len(ts) for c in cohorts for _, ts in blocks(analysis, c))
    done = 0
    first = 2 if summary else 1
    for k, cohort in enumerate(cohorts, first):
        out.append(Heading(f"{k}　{group_label(cohort)}", styles.h2, 1, f"ch2-{cohort}"))
        specs = {s.id: s for s in analysis.specs.get(cohort, [])}
        crosses: dict[str, list[Table]] = {}
        for t in analysis.tables:
            if t.group == cohort and t.by is not None:
                crosses.setdefault(t.variable, []).append(t)
        for name, tables in blocks(analysis, cohort):
            out.append(Paragraph(f"■ {name}", styles.h3))
            for t in tables:
                spec = specs.get(t.variable)
                options = {label for label, codes in spec.rows if codes[0] >= 0} if spec else set()
                if any(not c.suppressed and not c.base and c.n > 0 for c in t.all_cells()):
                    number = nums.figure()
                    chart = outputs.chart(number, t.title, charts.bar_chart(t), IMAGE_WIDTH)
                    caption = Paragraph(f"{number}　{t.title}", styles.caption)
                    text = Paragraph(sentence(t, options), styles.body)
                    out.append(KeepTogether([chart, caption, text]))
                # Nothing published: no chart and no sentence; the table's ＊ and its
                # footnote say why.
                out += published(t, styles, nums.table(), outputs)
                for x in crosses.get(t.variable, []):
                    out += cross_or_note(x, styles, nums, outputs)
                out.append(Spacer(1, 4 * mm))
                done += 1
                progress(done, total)
    following = first + len(cohorts)
    extra = after(nums, following) if after is not None else []
    out += extra
    out += safety(values, styles, following + bool(extra))
    return out


def cross_or_note(table: Table, styles: Styles, nums: Numbers, outputs: Outputs) -> list[Flowable]:
    if any(not c.suppressed and not c.base for c in table.all_cells()):
        return cross(table, styles, nums.table(), outputs)
    # A cross-tab with no share published (its groups' n are the breakdown's own table)
    # says no more than this line.
    by = BY_LABELS.get(table.by or "", table.by or "")
    text = f"{by}別の集計は、回答者数が少ないため公表できる数値がなく、省略します。"
    return [Paragraph(text, styles.note)]


def headline_sentences(table: Table, styles: Styles) -> list[Flowable]:
    """Each group's published shares with their 95% CIs, in words (the summary table's
    cells: K6 10+/13+, ideation ever/past year)."""
    if all(c.suppressed or math.isnan(c.pct) for c in table.all_cells()):
        return [Paragraph("回答者数が少ないため、公表できる数値はありません（＊）。", styles.body)]
    out: list[Flowable] = []
    for group, row in zip(table.rows, table.cells, strict=True):
        parts = []
        for label, cell in zip(table.columns, row, strict=True):
            if cell is None:
                continue
            if cell.suppressed or math.isnan(cell.pct):
                parts.append(f"{label} {disclosure.MARK}")
            else:
                parts.append(
                    f"{label} {cell.pct:.1f}%（95%信頼区間 {cell.low:.1f}～{cell.high:.1f}%）"
                )
        if parts:
            out.append(Paragraph(f"・{group}: {'、'.join(parts)}", styles.plain))
    return out


def safety(values: dict[str, Any], styles: Styles, number: int) -> list[Flowable]:
    title = f"{number}　回答者の安全への配慮と相談窓口"
    out: list[Flowable] = [Heading(title, styles.h2, 1, "ch2-safety")]
    out.append(
        Paragraph(
            "この調査では、つらい気持ちや自殺について尋ねる設問の直後と調査票の裏表紙に、"
            "相談窓口を案内しました。回答は匿名で、回答しないことも選べます。"
            "この報告書を読んで気持ちがつらくなったときも、一人で抱え込まずに相談してください。",
            styles.body,
        )
    )
    for line in values["crisis_lines"]:
        hours = f"（{line['hours']}）" if line.get("hours") else ""
        out.append(Paragraph(f"・{line['name']}　{line['number']}{hours}", styles.plain))
    return out
