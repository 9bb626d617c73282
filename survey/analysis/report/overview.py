"""第1章 調査の概要 and 調査結果の見方: the design in words, the exempt tables (sample design,
response rates, exact counts of the draw's records) and the sampling-error quick reference."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

import pandas as pd
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table

from survey.analysis import charts
from survey.analysis.disclosure import FOOTNOTE
from survey.analysis.inputs import Inputs, design_table, rates_table
from survey.analysis.report.assets import Outputs
from survey.analysis.report.precision import PERCENTAGES, quick_reference
from survey.analysis.report.style import Heading, Styles, wareki
from survey.cohorts import COHORT_LABELS, GUARDIAN_COHORTS

DEFAULT_PURPOSE = (
    "市民のこころの健康と暮らしの状況、相談先の認知などを把握し、自殺対策計画の策定と"
    "施策の評価のための基礎資料とすることを目的として実施しました。"
)
POPULATION = {
    "infant_guardian": "市内に住む未就学児のいる世帯（保護者）",
    "elementary_guardian": "市内に住む小学生のいる世帯（保護者）",
    "junior_high": "市内に住む中学生（基準日の学年で判定）",
    "high_school": "市内に住む高校生年代（基準日の学年で判定）",
    "general": "市内に住む{min_age}歳以上の市民",
}


def _date(text: str | None) -> str:
    return wareki(date.fromisoformat(text)) if text else "（未設定）"


NUMBER = re.compile(r"^[-+±]?[0-9][0-9,]*(\.[0-9]+)?%?$|^[－＊]$|^$")


def _grid(rows: list[list[Any]], styles: Styles, widths: list[float] | None = None) -> Table:
    """Text wraps (a paragraph per cell); numbers, ＊ and － stay one right-aligned line."""

    def cell(x: Any) -> Any:
        text = str(x)
        return text if NUMBER.match(text) else Paragraph(text, styles.cell)

    head = [Paragraph(str(x), styles.cell) for x in rows[0]]
    body = [[cell(x) for x in r] for r in rows[1:]]
    table = Table([head, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(styles.table())
    return table


def frame_table(
    df: pd.DataFrame,
    styles: Styles,
    formats: dict[str, str],
    widths: list[float] | None = None,
) -> Table:
    """A DataFrame as a table, each column formatted as ``formats`` says (default: as is)."""

    def fmt(col: str, v: Any) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "－"
        f = formats.get(col)
        return f.format(v) if f else str(v)

    rows = [list(df.columns)] + [[fmt(c, r[c]) for c in df.columns] for _, r in df.iterrows()]
    return _grid(rows, styles, widths)


def _method_rows(inputs: Inputs, values: dict[str, Any]) -> list[list[Any]]:
    rows: list[list[Any]] = [["対象", "母集団（抽出の枠）", "抽出単位", "配布・回収", "回答方法"]]
    sampled = inputs.draw.sample if inputs.draw else {c.cohort: c.sampled for c in inputs.counts}
    for cohort, label in COHORT_LABELS.items():
        if not sampled.get(cohort):
            continue
        if cohort in values["school_cohorts"]:
            route = "学校を通じて配布・郵送で回収"
        elif cohort == "infant_guardian" and values["infant_frame"] == "checkup":
            route = "乳幼児健診の対象児の世帯へ郵送"
        else:
            route = "郵送で配布・回収"
        channel = "Web または紙" if cohort in values["web_cohorts"] else "紙（郵送）"
        unit = "世帯" if cohort in GUARDIAN_COHORTS else "個人"
        population = POPULATION[cohort].format(min_age=values["general_min_age"])
        rows.append([label, population, unit, route, channel])
    return rows


def _grid_frame(rows: list[list[Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows[1:], columns=[str(x) for x in rows[0]])


def chapter(
    inputs: Inputs, values: dict[str, Any], styles: Styles, outputs: Outputs
) -> list[Flowable]:
    out: list[Flowable] = [Heading("第1章　調査の概要", styles.h1, 0, "ch1")]
    out.append(Heading("1　調査の目的", styles.h2, 1, "ch1-1"))
    out.append(Paragraph(values.get("purpose") or DEFAULT_PURPOSE, styles.body))
    out.append(Heading("2　調査の対象と方法", styles.h2, 1, "ch1-2"))
    as_of = inputs.draw.as_of.isoformat() if inputs.draw else values.get("as_of")
    out.append(
        Paragraph(
            f"基準日（{_date(as_of)}）の住民基本台帳から、次の対象ごとに抽出しました。"
            "保護者の対象は世帯を単位とし、同じ世帯が二つの対象に選ばれないよう、先に抽出した"
            "対象の世帯を後の対象の枠から除いています。",
            styles.body,
        )
    )
    out.append(Paragraph("表1-1　調査の対象と方法", styles.caption))
    method = _method_rows(inputs, values)
    outputs.table("表1-1", "調査の対象と方法", _grid_frame(method), [])
    out.append(_grid(method, styles, [28 * mm, 52 * mm, 16 * mm, 40 * mm, 30 * mm]))
    out.append(Heading("3　標本の抽出", styles.h2, 1, "ch1-3"))
    seed = inputs.draw.seed_sha256 if inputs.draw else None
    out.append(
        Paragraph(
            "対象ごとに層を分けた層化無作為抽出です。各層（対象）の抽出数（配分）をあらかじめ"
            "定め、層の中では単純無作為抽出により選びました。抽出に使う乱数の種は抽出前に"
            "そのハッシュ値（SHA-256）を記録して公表しており（コミットメント）、抽出後に種を"
            "開示すれば、誰でも同じ抽出結果になることを検証できます。"
            + (f"種のハッシュ値: {seed[:16]}…" if seed else ""),
            styles.body,
        )
    )
    out.append(Heading("4　調査期間", styles.h2, 1, "ch1-4"))
    period = f"{_date(values.get('fieldwork_start'))}～{_date(values.get('fieldwork_end'))}"
    reminder = values.get("reminder_on")
    out.append(
        Paragraph(
            f"調査期間は{period}です。"
            + (f"{_date(reminder)}に礼状兼督促状を送付しました。" if reminder else ""),
            styles.body,
        )
    )
    out.append(Heading("5　標本設計と回収状況", styles.h2, 1, "ch1-5"))
    out.append(Paragraph("表1-2　標本設計", styles.caption))
    design = design_table(inputs)
    design_note = (
        "N_h: 抽出の枠、m_h: 先に抽出した対象の世帯として枠から除いた数、N'_h = N_h − m_h、"
        "n_h: 抽出数。回答率は有効回答 ÷（抽出数 − 不達・対象外）。"
    )
    outputs.table("表1-2", "標本設計", design, [design_note])
    out.append(
        frame_table(
            design,
            styles,
            {"回答率": "{:.1%}", "重み w_h": "{:.2f}"},
            [19 * mm, 11 * mm, *[14 * mm] * 8, 15 * mm, 13 * mm],
        )
    )
    out.append(Paragraph(design_note, styles.note))
    out.append(Paragraph("表1-3　回収状況", styles.caption))
    rates = rates_table(inputs)
    outputs.table("表1-3", "回収状況", rates, [])
    out.append(frame_table(rates, styles, {"回収率": "{:.1%}"}))
    bars = [
        (r.label, 100 * r.web / r.eligible, 100 * r.paper / r.eligible)
        for r in inputs.fieldwork.rates
        if r.eligible > 0
    ]
    if bars:
        chart = outputs.chart("図1-1", "対象別の回答率", charts.response_rate_chart(bars), 150 * mm)
        out.append(KeepTogether([chart, Paragraph("図1-1　対象別の回答率", styles.caption)]))
    out += reading_guide(inputs, styles, outputs)
    return out


def reading_guide(inputs: Inputs, styles: Styles, outputs: Outputs) -> list[Flowable]:
    out: list[Flowable] = [Heading("6　調査結果の見方", styles.h2, 1, "ch1-6")]
    for text in (
        "割合（%）は、対象ごとの抽出率と回収率に応じた重みを付けて推計した値で、"
        "小数第2位を四捨五入しています。このため、合計が100.0%にならないことがあります。",
        "n は回答者数（基数）で、重み付けをしていない実数です。割合の基数は、その設問に"
        "回答すべき人のうち回答した人の数です。",
        "複数回答の設問では、回答者に対する割合を示しているため、合計が100%を超えます。",
        f"回答者のプライバシーを守るため、回答者数が{inputs.threshold}人未満の数値と、"
        "ほかの数値から計算できてしまう数値は「＊」として非表示にしています。",
        FOOTNOTE,
        "95%信頼区間は、推計値の不確かさの幅です（Korn-Graubard 法）。",
    ):
        out.append(Paragraph("・" + text, styles.plain))
    out.append(Paragraph("表1-4　標本誤差早見表（±ポイント、信頼度95%）", styles.caption))
    frames = {c.cohort: c for c in inputs.counts}
    rows = quick_reference(
        [
            (COHORT_LABELS.get(c, c), frames[c].frame, frames[c].responses)
            for c in COHORT_LABELS
            if c in frames
        ]
    )
    head = ["対象", "N'", "回答者数 n", *[f"{p}%（{100 - p}%）" for p in PERCENTAGES]]
    body = [[r.label, f"{r.frame:,}", f"{r.n:,}", *[f"±{m:.1f}" for m in r.margins]] for r in rows]
    note = (
        "標本誤差 = ±1.96 × √((N' − n) / (N' − 1) × p(1 − p) / n)。"
        "例: 回答者数 n の対象で30%の回答は、真の値がおおむね 30% ± 表の値 の範囲にあります。"
        "回答者の一部（例: 男性のみ）の割合では n が小さくなり、誤差は大きくなります。"
    )
    sheet = [[r.label, r.frame, r.n, *[round(m, 1) for m in r.margins]] for r in rows]
    outputs.table(
        "表1-4", "標本誤差早見表（±ポイント、信頼度95%）", _grid_frame([head, *sheet]), [note]
    )
    out.append(_grid([head, *body], styles))
    out.append(Paragraph(note, styles.note))
    out.append(Spacer(1, 2 * mm))
    return out
