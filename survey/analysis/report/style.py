"""The report's page and type: A4, IPAex Gothic only, footers, table of contents, outline.

Every style names the embedded font explicitly: reportlab's defaults (Helvetica, Times) are
standard-14 fonts, which a PDF references without embedding them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from mailing.fonts import FontSet

ACCENT = colors.HexColor("#3b6ea5")  # the charts' bar colour (survey.analysis.charts)
LIGHT = colors.HexColor("#e8eef6")


def wareki(day: date) -> str:
    """令和 date (令和元年 is 2019); the report is never dated before the era began."""
    year = day.year - 2018
    return f"令和{'元' if year == 1 else year}年{day.month}月{day.day}日"


class Styles:
    def __init__(self, font: str) -> None:
        def style(name: str, size: float, **kw: Any) -> ParagraphStyle:
            kw.setdefault("leading", size * 1.6)
            return ParagraphStyle(name, fontName=font, fontSize=size, wordWrap="CJK", **kw)

        self.font = font
        self.title = style("title", 24, alignment=TA_CENTER, spaceAfter=12 * mm)
        self.subtitle = style("subtitle", 14, alignment=TA_CENTER, spaceAfter=4 * mm)
        self.h1 = style("h1", 16, spaceBefore=2 * mm, spaceAfter=5 * mm, textColor=ACCENT)
        self.h2 = style("h2", 13, spaceBefore=5 * mm, spaceAfter=3 * mm, keepWithNext=1)
        self.h3 = style("h3", 11, spaceBefore=4 * mm, spaceAfter=2 * mm, keepWithNext=1)
        self.body = style("body", 10, spaceAfter=2 * mm, firstLineIndent=10)
        self.plain = style("plain", 10, spaceAfter=1.5 * mm)
        self.caption = style("caption", 9.5, spaceBefore=2 * mm, spaceAfter=1 * mm, keepWithNext=1)
        self.note = style("note", 8, leading=11)
        # A quoted excerpt: its 「 hangs, so the lines after the first align with the text.
        self.quote = style(
            "quote", 9.5, leftIndent=6 * mm + 9.5, firstLineIndent=-9.5, spaceAfter=1.5 * mm
        )
        self.cell = style("cell", 8, leading=10)
        self.cell_head = style(
            "cell_head", 8.5, leading=11, spaceBefore=2.5 * mm, spaceAfter=1 * mm
        )
        self.toc = [
            style("toc1", 11, leftIndent=0, spaceBefore=2 * mm),
            style("toc2", 10, leftIndent=8 * mm),
        ]

    def table(self, header_rows: int = 1, size: float = 8) -> TableStyle:
        return TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), self.font),
                ("FONTSIZE", (0, 0), (-1, -1), size),
                ("LEADING", (0, 0), (-1, -1), size * 1.3),
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, header_rows - 1), LIGHT),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (1, header_rows), (-1, -1), "RIGHT"),
            ]
        )


class Heading(Paragraph):
    """A heading that goes into the table of contents and the PDF outline."""

    def __init__(self, text: str, style: ParagraphStyle, level: int, key: str) -> None:
        super().__init__(text, style)
        self.level = level
        self.key = key
        self.toc_text = text


class Bookmark(Flowable):
    """A contents entry and outline item without text of its own (a page merged later)."""

    def __init__(self, text: str, level: int, key: str) -> None:
        super().__init__()
        self.level = level
        self.key = key
        self.toc_text = text

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        pass


class Slot(Flowable):
    """Marks a page kept blank for a PDF page merged onto it after the build (a
    questionnaire's page): it records the page number of the last pass."""

    def __init__(self, pages: dict[tuple[str, int], int], key: tuple[str, int]) -> None:
        super().__init__()
        self.pages = pages
        self.key = key

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.pages[self.key] = self.canv.getPageNumber()


class ReportDoc(BaseDocTemplate):
    """A4 with a centred page number below every page but the cover and the merged pages
    (a questionnaire numbers its own); two columns for the simple tabulation."""

    def __init__(self, target: Any, fonts: FontSet, title: str, author: str) -> None:
        super().__init__(
            target,
            pagesize=A4,
            leftMargin=20 * mm,
            rightMargin=20 * mm,
            topMargin=20 * mm,
            bottomMargin=22 * mm,
            title=title,
            author=author,
            creator="survey report",
            invariant=1,  # same records, same bytes (as mailing.pdf.new_canvas)
            initialFontName=fonts.main,  # never the standard-14 default
        )
        self.font = fonts.main
        frame = Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id="body")
        gap = 6 * mm
        half = (self.width - gap) / 2
        left = Frame(self.leftMargin, self.bottomMargin, half, self.height, id="left")
        right = Frame(
            self.leftMargin + half + gap, self.bottomMargin, half, self.height, id="right"
        )
        self.addPageTemplates(
            [
                PageTemplate("cover", [frame]),
                PageTemplate("body", [frame], onPage=self._footer),
                PageTemplate("insert", [frame]),
                PageTemplate("two", [left, right], onPage=self._footer),
            ]
        )
        self.toc = TableOfContents(dotsMinLevel=0)
        # Its table's default font is Helvetica, even where every cell is a paragraph.
        self.toc.tableStyle = TableStyle(
            [("FONTNAME", (0, 0), (-1, -1), self.font), ("VALIGN", (0, 0), (-1, -1), "TOP")]
        )

    def _footer(self, canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(self.font, 9)
        canvas.drawCentredString(A4[0] / 2, 11 * mm, f"－ {doc.page} －")
        canvas.restoreState()

    def afterFlowable(self, flowable: Any) -> None:
        if isinstance(flowable, Heading | Bookmark):
            key = flowable.key
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(flowable.toc_text, key, level=flowable.level)
            self.notify("TOCEntry", (flowable.level, flowable.toc_text, self.page, key))
