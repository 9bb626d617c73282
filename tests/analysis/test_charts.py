"""Charts draw only published figures: no bar for a suppressed cell (＊ and the footnote),
stacked bars whose segments are the published shares only; PNG and PDF with the font."""

from __future__ import annotations

import itertools
import math
import shutil
import subprocess
from pathlib import Path

from survey.analysis import charts, disclosure
from tests.analysis.test_disclosure import analysed
from tests.conftest import require_program


def _texts(fig: object) -> list[str]:
    return [t.get_text() for t in fig.findobj(match=lambda o: hasattr(o, "get_text"))]  # type: ignore[attr-defined]


def test_bars_leave_suppressed_cells_out(tmp_path: Path) -> None:
    analysis = analysed(11, 80, 10)
    t = next(t for t in analysis.tables if t.id == "general__ideation_ever")
    rows = [r[0] for r in t.cells[:-1]]
    assert any(c is not None and c.suppressed for c in rows)
    fig = charts.bar_chart(t)
    (ax,) = fig.axes
    widths = sorted(round(p.get_width(), 6) for p in ax.patches)
    published = [c for c in rows if c is not None and not c.suppressed]
    pcts = sorted(round(0.0 if math.isnan(c.pct) else c.pct, 6) for c in published)
    assert widths == pcts  # one bar per published cell, none for a suppressed one
    texts = _texts(fig)
    assert disclosure.MARK in texts and any(disclosure.FOOTNOTE in s for s in texts)
    assert any(f"n={t.cells[-1][0].n}" in s for s in texts)  # type: ignore[union-attr]
    written = charts.save(fig, tmp_path / t.id)
    assert [p.suffix for p in written] == [".png", ".pdf"]
    assert written[0].read_bytes().startswith(b"\x89PNG")
    require_program("poppler-utils (pdffonts)", shutil.which("pdffonts") is not None)
    fonts = subprocess.run(["pdffonts", str(written[1])], capture_output=True, text=True)
    assert "IPAexGothic" in fonts.stdout  # the Japanese font is embedded


def test_stacked_bars_hide_suppressed_segments() -> None:
    analysis = analysed(11, 80, 10)
    t = next(t for t in analysis.tables if t.id == "general__ideation_ever")
    fig = charts.stacked_chart("test", [t])
    ax = fig.axes[0]
    bars = [p for p in ax.patches if p.get_width() > 0]
    published = [r[0] for r in t.cells[:-1] if r[0] is not None and not r[0].suppressed]
    assert math.isclose(sum(p.get_width() for p in bars), sum(c.pct for c in published))
    # Segments are drawn side by side from 0: no gap in place would show a hidden width.
    lefts = sorted((p.get_x(), p.get_width()) for p in bars)
    for (x0, w0), (x1, _) in itertools.pairwise(lefts):
        assert math.isclose(x0 + w0, x1)
