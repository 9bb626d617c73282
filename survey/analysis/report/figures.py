"""Charts as vector graphics in the report: matplotlib's PDF output placed with pypdf.

reportlab cannot draw a PDF page, so a :class:`Chart` flowable only reserves the chart's box
and remembers where it was drawn (page and position); after the build, :func:`place` merges
each chart's page onto its page at that box. The charts are saved with TrueType (Type 42)
fonts — every text of the figure set to IPAex Gothic, tick numbers included — so the report
embeds Japanese TrueType fonts only (never a standard-14 font, never Type 3).

All charts are pages of *one* matplotlib PDF: its font subset is made once (fontTools'
subsetting of the large Japanese font takes most of a second per file).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.text import Text
from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from reportlab.platypus import Flowable

from mailing.fonts import gothic_path


def _one_font(fig: Figure) -> None:
    """Every text in IPAex Gothic at its own size (matplotlib's default is DejaVu Sans)."""
    path = str(gothic_path())
    for text in fig.findobj(Text):
        size = text.get_fontsize()
        text.set_fontproperties(FontProperties(fname=path, size=size))


# Type 42 (TrueType) instead of matplotlib's default Type 3: a searchable, embedded TrueType
# subset, as reportlab embeds. The PDF backend reads pdf.fonttype when drawing text and when
# writing the fonts; rc_context sets it only for those calls.


def png_bytes(fig: Figure, dpi: int = 160) -> bytes:
    _one_font(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


@dataclass(slots=True)
class Placement:
    index: int  # its page in the charts' PDF
    page: int = 0  # 1-based page of the report, once drawn
    x: float = 0.0
    y: float = 0.0
    width: float = 0.0
    height: float = 0.0


@dataclass(slots=True)
class Charts:
    """The charts of one report: pages of one PDF, placed after the build."""

    items: list[Placement] = field(default_factory=list)
    _buf: io.BytesIO = field(default_factory=io.BytesIO)
    _pages: PdfPages | None = None

    def flowable(self, fig: Figure, width: float) -> Chart:
        if self._pages is None:
            self._pages = PdfPages(self._buf, metadata={"Creator": None, "Producer": None})
        _one_font(fig)
        with matplotlib.rc_context({"pdf.fonttype": 42}):
            self._pages.savefig(fig)  # type: ignore[no-untyped-call]
        w, h = fig.get_size_inches()
        placement = Placement(len(self.items))
        self.items.append(placement)
        return Chart(placement, width, width * h / w)

    def pdf(self) -> bytes | None:
        if self._pages is None:
            return None
        with matplotlib.rc_context({"pdf.fonttype": 42}):
            self._pages.close()  # type: ignore[no-untyped-call]  # writes the fonts
        self._pages = None
        return self._buf.getvalue()


class Chart(Flowable):
    """The box of a chart; :func:`place` fills it."""

    def __init__(self, placement: Placement, width: float, height: float) -> None:
        super().__init__()
        self.placement = placement
        self.width = width
        self.height = height

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        # Each pass of multiBuild draws again: the last pass's position is the one kept.
        x, y = self.canv.absolutePosition(0, 0)
        p = self.placement
        p.page, p.x, p.y = self.canv.getPageNumber(), x, y
        p.width, p.height = self.width, self.height


def place(writer: PdfWriter, charts: Charts) -> None:
    """Merge every drawn chart onto its page of ``writer`` (the report, pages 1..n)."""
    data = charts.pdf()
    if data is None:
        return
    reader = PdfReader(io.BytesIO(data))
    for p in charts.items:
        if p.page == 0:
            continue  # never drawn (cannot happen: every Chart is in the story)
        chart = reader.pages[p.index]
        box = chart.mediabox
        scale = p.width / float(box.width)
        page: PageObject = writer.pages[p.page - 1]
        page.merge_transformed_page(
            chart, Transformation().scale(scale, scale).translate(p.x, p.y), over=True
        )


def save_png(fig: Figure, path: Path) -> Path:
    path.write_bytes(png_bytes(fig))
    return path
