"""Assemble the report: cover, contents, chapters, then the questionnaires (pypdf)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, NextPageTemplate, PageBreak, Paragraph, Spacer
from sqlmodel import Session

from mailing.fonts import FontSet
from survey.analysis.inputs import Inputs
from survey.analysis.inputs import load as load_inputs
from survey.analysis.report import appendix, figures, opinions, overview, results, tabulation
from survey.analysis.report.assets import Outputs
from survey.analysis.report.style import Heading, ReportDoc, Styles, wareki
from survey.analysis.run import Built, suppressed_tables
from survey.cohorts import COHORT_LABELS, COHORTS
from survey.forms.loader import Form, load_forms
from survey.forms.versions import form_for_cohort
from survey.keys import get_study_key
from survey.models import Study
from survey.study import effective_settings

Progress = Callable[[str, int, int], None]


@dataclass(slots=True)
class Context:
    inputs: Inputs
    values: dict[str, Any]
    forms: dict[str, Form]  # the questionnaire of each sampled cohort
    fingerprint: str | None
    public_url: str


def gather(session: Session, study: Study, public_url: str) -> Context:
    """Everything the report reads, in the caller's one read transaction."""
    inputs = load_inputs(session, study)
    values = effective_settings(study)
    sampled = inputs.draw.sample if inputs.draw else {c.cohort: c.sampled for c in inputs.counts}
    all_forms = load_forms()
    forms = {}
    for cohort in COHORTS:
        if sampled.get(cohort):
            form = form_for_cohort(session, study, cohort, all_forms)
            if form is not None:
                forms[cohort] = form
    key = get_study_key(session, study)
    return Context(inputs, values, forms, key.fingerprint if key else None, public_url)


def _cover(ctx: Context, styles: Styles) -> list[Flowable]:
    v = ctx.values
    published = date.fromisoformat(v["published_on"]) if v.get("published_on") else date.today()
    org = "　".join(x for x in (v["organisation"], v["section"]) if x)
    return [
        Spacer(1, 60 * mm),
        Paragraph(v["title"], styles.title),
        Paragraph("調査報告書", styles.subtitle),
        Spacer(1, 70 * mm),
        Paragraph(wareki(published), styles.subtitle),
        Paragraph(org, styles.subtitle),
        NextPageTemplate("body"),
        PageBreak(),
    ]


def _appendix_page(questionnaires: list[appendix.Questionnaire], styles: Styles) -> list[Flowable]:
    out: list[Flowable] = [PageBreak(), Heading("付録　調査票", styles.h1, 0, "appendix")]
    out.append(
        Paragraph(
            "各対象に配布した紙の調査票（白紙の原稿）を次ページ以降に収録します。"
            "Webの回答画面は同じ設問・選択肢です。",
            styles.body,
        )
    )
    for q in questionnaires:
        out.append(Paragraph(f"・{q.title}（{q.pages}ページ）", styles.plain))
    return out


def build(
    ctx: Context,
    out: Path,
    progress: Progress | None = None,
    assets: Path | None = None,
    computed: Built | None = None,
) -> dict[str, Any]:
    """The report as ``out`` (PDF); with ``assets``, its tables (XLSX) and charts (PNG).
    ``computed``: the tables already built and suppressed from ``ctx.inputs``' dataset."""

    def step(label: str, done: int, total: int) -> None:
        if progress is not None:
            progress(label, done, total)

    inputs = ctx.inputs
    step("集計 tables", 0, 2)
    analysis, report = suppressed_tables(inputs, computed, lambda _: step("集計 tables", 1, 2))
    step("集計 tables", 2, 2)
    fonts = FontSet.load()
    styles = Styles(fonts.main)
    step("調査票 questionnaires", 0, 1)
    questionnaires = appendix.render(ctx.forms, ctx.values, fonts, ctx.public_url, ctx.fingerprint)
    step("調査票 questionnaires", 1, 1)
    title = f"{ctx.values['title']} 調査報告書"
    author = ctx.values["organisation"] or "survey-platform"
    outputs = Outputs(assets)
    buf = io.BytesIO()
    doc = ReportDoc(buf, fonts, title, author)
    story: list[Flowable] = _cover(ctx, styles)
    story += [Paragraph("目次", styles.h1), doc.toc, PageBreak()]
    story += overview.chapter(inputs, ctx.values, styles, outputs)
    story.append(PageBreak())
    story += results.chapter(
        analysis,
        ctx.values,
        styles,
        outputs,
        lambda d, t: step("結果 results", d, t),
        lambda nums, k: opinions.section(inputs.opinions, ctx.forms, styles, nums, outputs, k),
    )
    story += _appendix_page(questionnaires, styles)
    slots: dict[tuple[str, int], int] = {}
    story += appendix.slots(questionnaires, slots)
    blocks = {c: results.blocks(analysis, c) for c in COHORT_LABELS}
    story += tabulation.appendix({c: b for c, b in blocks.items() if b}, styles, outputs)
    step("PDF", 0, 1)
    doc.toc.levelStyles = styles.toc
    doc.multiBuild(story)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buf.getvalue())))
    appendix.merge(writer, questionnaires, slots)
    figures.place(writer, outputs.charts)
    writer.add_metadata({"/Title": title, "/Author": author, "/Creator": "survey report"})
    with out.open("wb") as f:
        writer.write(f)
    written = outputs.write()
    step("PDF", 1, 1)
    return {
        "study": inputs.study,
        "file": str(out),
        "pages": doc.page,
        # The report's own pages and the questionnaires' (merged among them).
        "report_pages": doc.page - sum(q.pages for q in questionnaires),
        "appendix_pages": sum(q.pages for q in questionnaires),
        "assets": [str(p) for p in written],
        "tables": len(analysis.tables),
        "suppressed": report.suppressed_primary + report.suppressed_complementary,
        "dataset_sha256": inputs.sha256,
    }
