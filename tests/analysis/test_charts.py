"""Charts draw only published figures: no bar for a suppressed cell (＊ and the footnote),
stacked bars whose segments are the published shares only; PNG and PDF with the font."""

from __future__ import annotations

import itertools
import math
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from survey.analysis import charts, disclosure
from survey.analysis.tables import Cell, Table
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


def test_interval_chart_draws_published_cells_with_their_intervals() -> None:
    def cell(n: int, pct: float, suppressed: bool = False) -> Cell:
        return Cell(("k", n), n, pct, pct - 4, pct + 5, (), False, 120, True, suppressed)

    cells: list[list[Cell | None]] = [
        [cell(20, 16.7), cell(11, 9.2)],
        [cell(12, 10.0), cell(4, 3.3, suppressed=True)],
    ]
    t = Table(
        "summary__k6_headlines", "K6", "all", "k6_10plus", None, "summary",
        ["一般市民", "高校生"], ["10点以上", "13点以上"], cells, "k6_10plus",
    )  # fmt: skip
    fig = charts.interval_chart(t)
    ax = fig.axes[0]
    widths = sorted(round(p.get_width(), 6) for p in ax.patches if p.get_width() > 0)
    assert widths == [9.2, 10.0, 16.7]  # none for the suppressed cell
    texts = _texts(fig)
    assert disclosure.MARK in texts and "3.3%" not in texts and "16.7%" in texts
    assert any(disclosure.FOOTNOTE in x for x in texts)
    # Tick labels are whole numbers: no tick reads as a (possibly hidden) share.
    FigureCanvasAgg(fig).draw()
    ticks = [tick.get_text() for tick in ax.get_xticklabels()]
    assert ticks and all(x and "." not in x for x in ticks), ticks
    # The ＊ of the last group's last measure stands inside the plot, not under its axis.
    low, high = ax.get_ylim()
    marks = [x for x in ax.texts if x.get_text() == disclosure.MARK]
    assert marks and all(low < m.get_position()[1] < high for m in marks)


def test_response_rate_chart_stacks_web_and_paper() -> None:
    fig = charts.response_rate_chart([("一般市民", 20.0, 13.5), ("高校生", 0.0, 20.3)])
    ax = fig.axes[0]
    bars = [(round(p.get_x(), 6), round(p.get_width(), 6)) for p in ax.patches]
    assert (0.0, 20.0) in bars and (20.0, 13.5) in bars and (0.0, 20.3) in bars
    assert {"33.5%", "20.3%"} <= set(_texts(fig))


def test_charts_drawn_in_processes_equal_those_drawn_in_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # write_all spreads hundreds of charts over worker processes: the same files, in the
    # same order, pixel for pixel, as one process draws them.
    analysis = analysed(11, 80, 10)
    monkeypatch.setattr(charts, "PARALLEL_FROM", 2)  # this small study takes that path too
    one = charts.write_all(analysis, tmp_path / "one", workers=1)
    two = charts.write_all(analysis, tmp_path / "two", workers=2)
    assert len(one) >= 4
    assert [p.relative_to(tmp_path / "one") for p in one] == [
        p.relative_to(tmp_path / "two") for p in two
    ]
    for a, b in zip(one, two, strict=True):
        if a.suffix == ".png":
            assert a.read_bytes() == b.read_bytes(), a.name


def test_a_script_without_a_main_guard_draws_its_charts_once(tmp_path: Path) -> None:
    # multiprocessing's spawn and forkserver import the caller's main module in each worker:
    # an analyst's script without `if __name__ == "__main__"` would run again inside them.
    # The workers are fresh interpreters of survey.analysis.offload instead.
    script = tmp_path / "analyst.py"
    script.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
        "from pathlib import Path\n"
        "from survey.analysis import charts\n"
        "from tests.analysis.test_disclosure import analysed\n"
        "charts.PARALLEL_FROM = 2\n"
        f"drawn = charts.write_all(analysed(11, 80, 10), Path({str(tmp_path / 'out')!r}), 2)\n"
        "print('drawn', len(drawn), flush=True)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("drawn ") == 1, done.stdout


def test_a_worker_that_cannot_start_leaves_none_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Any] = []
    real = charts.Offload

    def second_fails(*args: Any) -> Any:
        if started:
            raise OSError("cannot start a process")
        started.append(real(*args))
        return started[-1]

    monkeypatch.setattr(charts, "PARALLEL_FROM", 2)
    monkeypatch.setattr(charts, "Offload", second_fails)
    with pytest.raises(OSError):
        charts.start(analysed(11, 80, 10), tmp_path / "out", workers=2)
    assert started and started[0]._child.poll() is not None
