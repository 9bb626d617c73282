"""``survey analyze``: every table (CSV, XLSX), the disclosure report and the exports."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from survey.analysis import charts, disclosure, exports, microdata, opinions, tables
from survey.analysis.chisq import ChisqResult
from survey.analysis.inputs import Inputs, design_table, rates_table
from survey.analysis.offload import Offload
from survey.analysis.opinions import Published
from survey.analysis.weights import CohortCounts
from survey.forms.codebook import write_xlsx as write_codebook
from survey.forms.loader import Form, load_forms

Progress = Callable[[str, int, int], None]


def published_test(table: tables.Table) -> ChisqResult | None:
    """A cross-tab's Rao-Scott test, only where every cell of it is published: the statistic
    is a function of all the cells, suppressed ones included. The 不詳 column is not among
    them (the test is over those who gave an option of the breakdown)."""
    if table.test is None:
        return None
    tested = len(table.columns) - table.has_unknown
    cells = (c for row in table.cells for c in row[:tested])
    if any(c is not None and c.suppressed for c in cells):
        return None
    return table.test


def table_notes(t: tables.Table) -> list[str]:
    """The lines under a published table: its title, what 不詳 means, the footnote of ＊,
    its test."""
    lines = [t.title]
    if t.has_unknown:
        lines.append(tables.UNKNOWN_NOTE)
    if any(c.suppressed for c in t.all_cells()):
        lines.append(disclosure.FOOTNOTE)
    test = published_test(t)
    if test is not None:
        lines.append(f"Rao-Scott F = {test.statistic:.3f}, p = {test.p_value:.4f}")
    return lines


def write_opinions(published: Published | None, folder: Path, out: Path) -> list[str]:
    """Free text: only coded counts (suppressed) and approved redacted excerpts leave."""
    if published is None:
        return []
    paths = []
    for variable, frame in published.counts.items():
        paths.append(folder / f"opinions_{variable}.csv")
        paths[-1].write_bytes(exports.csv_bytes(frame))
    paths.append(out / "opinions_excerpts.csv")
    paths[-1].write_bytes(exports.csv_bytes(published.excerpts))
    return [str(p) for p in paths]


EXCERPTS_SHEET = "自由意見 excerpts"


def opinion_sheets(
    published: Published | None,
) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]]:
    """The same frames as :func:`write_opinions`' CSVs as tables.xlsx sheets (a counts
    sheet per item, then the excerpts), each with its notes."""
    if published is None:
        return {}, {}
    sheets: dict[str, pd.DataFrame] = {}
    notes: dict[str, list[str]] = {}
    for variable, frame in published.counts.items():
        sheets[f"自由意見 {variable}"] = frame
        notes[f"自由意見 {variable}"] = [
            opinions.counts_title(variable),
            *opinions.counts_notes(frame),
        ]
    sheets[EXCERPTS_SHEET] = published.excerpts
    notes[EXCERPTS_SHEET] = [opinions.EXCERPTS_TITLE, opinions.EXCERPTS_NOTE]
    return sheets, notes


Built = tuple[tables.Analysis, disclosure.Report]


def suppressed_tables(
    inputs: Inputs,
    computed: Built | None = None,
    built: Callable[[tables.Analysis], None] | None = None,
) -> Built:
    """Every table of the dataset, suppressed for publication; ``computed`` when given (the
    office keeps it per dataset). ``built`` hears when the tables stand, before suppression."""
    if computed is not None:
        return computed
    analysis = tables.build(inputs.df, inputs.design, inputs.forms)
    if built is not None:
        built(analysis)
    return analysis, disclosure.apply(analysis, inputs.threshold)


def analyze(
    inputs: Inputs,
    out: Path,
    progress: Progress | None = None,
    computed: Built | None = None,
) -> dict[str, Any]:
    """Write everything into ``out``. ``computed``: the tables already built and suppressed
    from these same ``inputs`` (the office keeps them per dataset), not computed again."""

    def step(label: str, done: int, total: int) -> None:
        if progress is not None:
            progress(label, done, total)

    out.mkdir(parents=True, exist_ok=True)
    rows = (inputs.df, inputs.forms, inputs.counts, inputs.threshold, out)
    # The row-level files read only the dataset: on a large one a second interpreter writes
    # them while this one estimates and suppresses (about half the time at a million rows).
    beside = Offload(row_files, *rows) if len(inputs.df) >= ROWS_BESIDE else None
    try:
        return _analyze(inputs, out, step, computed, rows, beside)
    finally:
        if beside is not None:
            beside.cancel()


ROWS_BESIDE = 50_000  # rows from which a second interpreter writes the row-level files


def row_files(
    df: pd.DataFrame,
    forms: dict[str, Form],
    counts: list[CohortCounts],
    threshold: int,
    out: Path,
) -> tuple[list[str], dict[str, Any]]:
    """What reads the rows rather than the tables: dataset.sav (no free text), the codebook
    and the microdata; their paths and the microdata's summary."""
    sav = out / "dataset.sav"
    exports.write_sav(df, forms, sav)
    codebook = out / "codebook.xlsx"
    write_codebook(load_forms(), codebook)
    files, micro = microdata.write(df, forms, counts, threshold, out)
    return [str(sav), str(codebook), *map(str, files)], micro


def _analyze(
    inputs: Inputs,
    out: Path,
    step: Progress,
    computed: Built | None,
    rows: tuple[Any, ...],
    beside: Offload[tuple[list[str], dict[str, Any]]] | None,
) -> dict[str, Any]:
    step("集計 tables", 0, 3)
    analysis, report = suppressed_tables(inputs, computed, lambda _: step("集計 tables", 1, 3))
    step("集計 tables", 2, 3)
    # The charts need only the suppressed tables: drawn by workers while this process audits
    # and writes the tables.
    drawing = charts.start(analysis, out / "charts")
    try:
        return _write(inputs, out, step, analysis, report, drawing, rows, beside)
    finally:
        drawing.cancel()


def _write(
    inputs: Inputs,
    out: Path,
    step: Progress,
    analysis: tables.Analysis,
    report: disclosure.Report,
    drawing: charts.Drawing,
    rows: tuple[Any, ...],
    beside: Offload[tuple[list[str], dict[str, Any]]] | None,
) -> dict[str, Any]:
    written: list[str] = []
    check = disclosure.audit(analysis, inputs.threshold, fast=True)
    step("集計 tables", 3, 3)
    sheets = {
        "標本設計 design": design_table(inputs),
        "回収状況 response_rates": rates_table(inputs),
    }
    notes: dict[str, list[str]] = {}
    folder = out / "tables"
    folder.mkdir(exist_ok=True)
    for i, t in enumerate(analysis.tables):
        frame = disclosure.published_frame(t)
        sheets[t.id] = frame
        notes[t.id] = table_notes(t)
        path = folder / f"{t.id}.csv"
        path.write_bytes(exports.csv_bytes(frame))
        written.append(str(path))
        step("CSV", i + 1, len(analysis.tables))
    for name in ("標本設計 design", "回収状況 response_rates"):
        path = folder / f"{name.split()[1]}.csv"
        path.write_bytes(exports.csv_bytes(sheets[name]))
        written.append(str(path))
    written += write_opinions(inputs.opinions, folder, out)
    extra, extra_notes = opinion_sheets(inputs.opinions)
    sheets.update(extra)
    notes.update(extra_notes)
    xlsx = out / "tables.xlsx"
    exports.write_xlsx(sheets, xlsx, notes)
    written.append(str(xlsx))
    step("グラフ charts", 0, 1)
    drawn = drawing.paths()
    written += [str(p) for p in drawn]
    step("グラフ charts", 1, 1)
    step("SPSS・ミクロデータ", 0, 1)
    files, micro = row_files(*rows) if beside is None else beside.result()
    written += files
    step("SPSS・ミクロデータ", 1, 1)
    summary = {
        "study": inputs.study,
        "rows": len(inputs.df),
        "dataset_sha256": inputs.sha256,
        "threshold": inputs.threshold,
        "tables": len(analysis.tables),
        "suppressed_primary": report.suppressed_primary,
        "suppressed_complementary": report.suppressed_complementary,
        "linked_sets": report.sets,
        "lp_solves": report.lp_solves + check.lp_solves,
        "audit_violations": len(check.violations),
        "audit_passed": not check.violations,
        "escalations": report.escalations,
        "charts": len(drawn),
        "microdata": micro,
        "files": written,
    }
    (out / "disclosure.json").write_text(
        json.dumps({**summary, "violations": check.violations}, ensure_ascii=False, indent=1)
    )
    written.append(str(out / "disclosure.json"))
    return summary
