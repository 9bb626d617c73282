"""付録: the printed questionnaire of every cohort, merged page by page after the report."""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader, PdfWriter

from mailing.fonts import FontSet
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


def merge(report: bytes, appendices: list[Questionnaire], meta: dict[str, str]) -> bytes:
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(report)))  # keeps the report's outline
    for q in appendices:
        first = len(writer.pages)
        writer.append(PdfReader(io.BytesIO(q.pdf)), import_outline=False)
        writer.add_outline_item(title=q.title, page_number=first)
    writer.add_metadata(meta)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()
