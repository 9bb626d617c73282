"""What the report places, collected once: its charts (vector, placed after the build) and,
for ``--assets DIR``, the same tables as one XLSX (a sheet per 表) and the charts as PNG
(a file per 図), so the city can revise the content without the PDF.

Every table and chart reaches the page through :meth:`Outputs.table` and
:meth:`Outputs.chart`, so the folder holds exactly what the PDF shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from reportlab.platypus import Flowable

from survey.analysis import exports
from survey.analysis.report.figures import Charts, save_png

INDEX_SHEET = "目次"
XLSX_NAME = "報告書_表.xlsx"


@dataclass(slots=True)
class _Figure:
    caption: str
    title: str
    file: str


@dataclass(slots=True)
class Outputs:
    folder: Path | None = None  # --assets DIR; None: the PDF only
    charts: Charts = field(default_factory=Charts)
    sheets: dict[str, pd.DataFrame] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    titles: dict[str, str] = field(default_factory=dict)
    figures: list[_Figure] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.folder is not None:
            (self.folder / "charts").mkdir(parents=True, exist_ok=True)

    def table(self, caption: str, title: str, frame: pd.DataFrame, notes: list[str]) -> None:
        """A table as the page shows it (its cells' text: ＊ stays ＊)."""
        if self.folder is None:
            return
        self.sheets[caption] = frame
        self.titles[caption] = title
        self.notes[caption] = [f"{caption}　{title}", *notes]

    def chart(self, caption: str, title: str, fig: Figure, width: float) -> Flowable:
        flowable = self.charts.flowable(fig, width)
        if self.folder is not None:
            name = f"{caption}.png"
            save_png(fig, self.folder / "charts" / name)
            self.figures.append(_Figure(caption, title, f"charts/{name}"))
        return flowable

    def write(self) -> list[Path]:
        """The XLSX (a contents sheet first) and the PNGs already written; their paths."""
        if self.folder is None:
            return []
        index = pd.DataFrame(
            [{"番号": c, "内容": self.titles[c], "シート・ファイル": c} for c in self.sheets]
            + [
                {"番号": f.caption, "内容": f.title, "シート・ファイル": f.file}
                for f in self.figures
            ]
        )
        path = self.folder / XLSX_NAME
        exports.write_xlsx({INDEX_SHEET: index, **self.sheets}, path, self.notes)
        return [path, *(self.folder / f.file for f in self.figures)]
