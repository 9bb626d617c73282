"""付録: the printed questionnaire of every cohort, merged page by page onto the pages the
report keeps blank for them (so the simple tabulation can follow, its pages numbered on)."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter
from reportlab.platypus import Flowable, NextPageTemplate, PageBreak

from mailing.fonts import FontSet
from survey.analysis.report.style import Bookmark, Slot
from survey.cohorts import COHORT_LABELS
from survey.forms.loader import Form
from survey.forms.paper.render import write_booklets


@dataclass(slots=True)
class Questionnaire:
    cohort: str
    title: str  # its table-of-contents entry
    pdf: bytes
    pages: int


def render(
    forms: dict[str, Form],
    values: dict[str, Any],
    fonts: FontSet,
    public_url: str,
    fingerprint: str | None,
) -> list[Questionnaire]:
    """The blank master of each cohort's form (no access code: nothing personal)."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, cohort in enumerate(c for c in COHORT_LABELS if c in forms):
            path = Path(tmp) / f"{cohort}.pdf"
            web = cohort in values["web_cohorts"]
            write_booklets(path, forms[cohort], fonts, values, web, public_url, fingerprint)
            data = path.read_bytes()
            title = f"付録{n + 1}　調査票（{COHORT_LABELS[cohort]}）"
            out.append(Questionnaire(cohort, title, data, len(PdfReader(io.BytesIO(data)).pages)))
    return out


def slots(questionnaires: list[Questionnaire], pages: dict[tuple[str, int], int]) -> list[Flowable]:
    """One blank page (template "insert") per questionnaire page, its first page a contents
    entry; ``pages`` receives each page's number as drawn."""
    out: list[Flowable] = [NextPageTemplate("insert")] if questionnaires else []
    for q in questionnaires:
        out.append(PageBreak())
        out.append(Bookmark(q.title, 1, f"appendix-{q.cohort}"))
        for i in range(q.pages):
            if i:
                out.append(PageBreak())
            out.append(Slot(pages, (q.cohort, i)))
    return [*out, NextPageTemplate("two"), PageBreak()]  # the simple tabulation follows


def merge(
    writer: PdfWriter, questionnaires: list[Questionnaire], pages: dict[tuple[str, int], int]
) -> None:
    """Each questionnaire page onto its blank page (the page object stays: the contents'
    links and the outline point at it)."""
    for q in questionnaires:
        reader = PdfReader(io.BytesIO(q.pdf))
        for i, page in enumerate(reader.pages):
            writer.pages[pages[(q.cohort, i)] - 1].merge_page(page)
