"""The files the office's 集計 pages hand out, made from the computed analysis (see
survey.analysis.pages): published tables as XLSX or CSV, the charts as PNG, the dataset as
SPSS .sav, and the whole ``survey analyze`` folder as one ZIP.

Only published figures are in the tables and charts (disclosure.published_frame, the charts
of survey.analysis.charts); the .sav is the dataset itself (no free text), as the command
line writes it.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from survey.analysis import charts, disclosure, exports, run
from survey.analysis.pages import Computed, group_slug
from survey.analysis.tables import Table, group_label

Progress = Callable[[str, int, int], None]
# kind -> (label, file name, media type)
KINDS: dict[str, tuple[str, str, str]] = {
    "xlsx": (
        "集計表（XLSX）",
        "tables.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "csv": ("集計表（CSV 一式、ZIP）", "tables-csv.zip", "application/zip"),
    "charts": ("グラフ（PNG 一式、ZIP）", "charts.zip", "application/zip"),
    "sav": ("データセット（SPSS .sav）", "dataset.sav", "application/octet-stream"),
    "bundle": ("集計一式（survey analyze の出力、ZIP）", "analysis.zip", "application/zip"),
}
EXEMPT = {"標本設計 design": "design", "回収状況 response_rates": "response_rates"}


def _sheets(computed: Computed) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]]:
    sheets: dict[str, pd.DataFrame] = {
        "標本設計 design": computed.design,
        "回収状況 response_rates": computed.rates,
    }
    notes = {}
    for t in computed.analysis.tables:
        sheets[t.id] = disclosure.published_frame(t)
        notes[t.id] = run.table_notes(t)
    return sheets, notes


def xlsx(computed: Computed, work: Path) -> bytes:
    sheets, notes = _sheets(computed)
    path = work / "tables.xlsx"
    exports.write_xlsx(sheets, path, notes)
    return path.read_bytes()


def csv_zip(computed: Computed) -> bytes:
    sheets, _ = _sheets(computed)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, frame in sheets.items():
            stem = EXEMPT.get(name, name)
            zf.writestr(f"tables/{stem}.csv", exports.csv_bytes(frame))
    return buffer.getvalue()


def chart_png(computed: Computed, group: str, chart: str) -> bytes | None:
    """One chart of a group's published figures: an item's bars, or ``k6_grid``."""
    freq = {t.variable: t for t in computed.analysis.tables if t.group == group and t.by is None}
    if chart == "k6_grid":
        items = [freq[v] for v in charts.K6_ITEMS if v in freq]
        if not items:
            return None
        fig = charts.stacked_chart(f"K6の各項目（{group_label(group)}）", items)
    else:
        table = freq.get(chart)
        if table is None or table.kind == "summary" or not has_chart(table):
            return None
        fig = charts.bar_chart(table)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def has_chart(table: Table) -> bool:
    """A chart is drawn only where something is published (as ``charts.write_all``)."""
    return not all(c.suppressed for c in table.all_cells())


def charts_zip(computed: Computed) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for t in computed.analysis.tables:
            if t.by is None and t.kind != "summary" and has_chart(t):
                data = chart_png(computed, t.group, t.variable)
                if data is not None:
                    zf.writestr(f"charts/{group_slug(t.group)}__{t.variable}.png", data)
        for g in sorted({t.group for t in computed.analysis.tables}):
            data = chart_png(computed, g, "k6_grid")
            if data is not None:
                zf.writestr(f"charts/{group_slug(g)}__k6_grid.png", data)
    return buffer.getvalue()


def sav(computed: Computed, work: Path) -> bytes:
    path = work / "dataset.sav"
    exports.write_sav(computed.inputs.df, computed.inputs.forms, path)
    return path.read_bytes()


def bundle(computed: Computed, work: Path, progress: Progress) -> tuple[bytes, dict[str, object]]:
    """``survey analyze`` into a folder of its own, zipped; the folder is removed."""
    folder = Path(tempfile.mkdtemp(dir=work))
    try:
        summary = run.analyze(
            computed.inputs, folder, progress, (computed.analysis, computed.report)
        )
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    zf.write(path, str(path.relative_to(folder)))
        summary = {k: v for k, v in summary.items() if k != "files"}  # server paths
        return buffer.getvalue(), summary
    finally:
        shutil.rmtree(folder, ignore_errors=True)
