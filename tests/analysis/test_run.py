"""``survey.analysis.run``: the row-level files written in a second interpreter (as analyze
does on a large dataset) are the files one process writes; the chart workers stop with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyreadstat
import pytest

from survey.analysis import run, tables
from survey.analysis.offload import Offload
from tests.analysis import responses
from tests.analysis.test_disclosure import analysed


def _read(out: Path) -> dict[str, object]:
    data, meta = pyreadstat.read_sav(str(out / "dataset.sav"), user_missing=True)
    micro = pd.read_csv(out / "microdata.csv", encoding="utf-8-sig")
    return {
        "dataset": data,
        "labels": meta.column_names_to_labels,
        "values": meta.variable_value_labels,
        "missing": meta.missing_ranges,
        # Shuffled on purpose (microdata.py): the same rows, in another order.
        "microdata": micro.sort_values(list(micro.columns)).reset_index(drop=True),
        "microdata.json": json.loads((out / "microdata.json").read_text()),
    }


def test_the_row_files_written_beside_are_those_written_in_one_process(tmp_path: Path) -> None:
    # analyze() hands them to a second interpreter on a large dataset (run.ROWS_BESIDE).
    inputs = responses.inputs(responses.dataset({"general": 160, "high_school": 60}))
    args = (inputs.df, inputs.forms, inputs.counts, inputs.threshold)
    (tmp_path / "one").mkdir()
    (tmp_path / "beside").mkdir()
    one = run.row_files(*args, tmp_path / "one")
    beside = Offload(run.row_files, *args, tmp_path / "beside").result()
    assert (
        [Path(f).name for f in one[0]]
        == [Path(f).name for f in beside[0]]
        == [
            "dataset.sav",
            "codebook.xlsx",
            "microdata.csv",
            "microdata.sav",
            "microdata.json",
        ]
    )
    assert one[1] == beside[1]
    a, b = _read(tmp_path / "one"), _read(tmp_path / "beside")
    for key in a:
        if isinstance(a[key], pd.DataFrame):
            pd.testing.assert_frame_equal(a[key], b[key])  # type: ignore[arg-type]
        else:
            assert a[key] == b[key], key
    assert len(a["dataset"]) == 220  # type: ignore[arg-type]
    assert (tmp_path / "one" / "codebook.xlsx").read_bytes()[:2] == b"PK"


def test_a_failure_after_the_suppression_stops_the_chart_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The charts are drawn by workers while analyze audits and writes the tables: when that
    # fails, no worker is left drawing.
    from survey.analysis import charts, disclosure

    started: list[charts.Drawing] = []
    start = charts.start

    def recorded(*args: Any, **kwargs: Any) -> charts.Drawing:
        started.append(start(*args, **kwargs))
        return started[-1]

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("audit failed")

    monkeypatch.setattr(charts, "PARALLEL_FROM", 2)
    monkeypatch.setattr(charts, "start", recorded)
    monkeypatch.setattr(disclosure, "audit", broken)
    inputs = responses.inputs(responses.dataset({"general": 160, "high_school": 60}))
    with pytest.raises(RuntimeError, match="audit failed"):
        run.analyze(inputs, tmp_path / "out")
    (drawing,) = started
    assert drawing._work and all(w._child.poll() is not None for w in drawing._work)


def test_a_crosstabs_test_is_published_whatever_its_unknown_column_hides() -> None:
    """The Rao-Scott test is over those who gave an option of the breakdown: a ＊ in the 不詳
    column does not withhold it; one in an option column does."""
    analysis = analysed(7, 200, 10)
    t = next(t for t in analysis.tables if t.test is not None and t.has_unknown)
    for c in t.all_cells():
        c.suppressed = False
    assert run.published_test(t) is t.test
    unknown = t.cells[0][-1]
    assert unknown is not None
    unknown.suppressed = True
    assert run.published_test(t) is t.test
    option = t.cells[0][1]
    assert option is not None
    option.suppressed = True
    assert run.published_test(t) is None


def test_the_unknown_column_is_explained_under_every_table_that_has_one() -> None:
    """tables.xlsx and the office say what 不詳 means wherever the column is shown."""
    analysis = analysed(7, 200, 10)
    with_unknown = [t for t in analysis.tables if t.has_unknown]
    assert with_unknown and all(t.columns[-1] == tables.UNKNOWN_LABEL for t in with_unknown)
    assert all(tables.UNKNOWN_NOTE in run.table_notes(t) for t in with_unknown)
    frequency = next(t for t in analysis.tables if t.by is None)
    assert tables.UNKNOWN_NOTE not in run.table_notes(frequency)
