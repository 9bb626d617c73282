"""``survey report`` on a small drawn study with web answers (the analyze test's data): the
sections and their contents entries, embedded fonts only, the sampling-error table by hand,
no figure in the results that is not a published cell, the questionnaires appended."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlmodel import select

from survey.analysis import disclosure, tables
from survey.analysis.inputs import load as load_inputs
from survey.analysis.report.precision import margin, quick_reference
from survey.analysis.report.results import sentence
from survey.analysis.tables import Cell, Table
from survey.cohorts import COHORT_LABELS
from survey.collector.intake import Intake
from survey.forms.loader import current_forms, load_forms
from survey.models import Study
from tests.analysis.test_analyze_cli import answered
from tests.conftest import Issued, require_program

STANDARD_14 = re.compile(r"^(Helvetica|Times|Courier|Symbol|ZapfDingbats)")
ONE_DECIMAL = re.compile(r"(?<![\d.])\d{1,3}\.\d(?![\d])")


def _pages(pdf: Path) -> list[str]:
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    return text.split("\f")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def programs() -> None:
    for name in ("pdftotext", "pdffonts", "pdftoppm"):
        require_program(name, shutil.which(name) is not None)


# sqlite_only: as the analyze test, the report reads the dataset once; the rest is the same
# computation on either backend.
@pytest.mark.sqlite_only
def test_report(run, intake: Intake, issued: Issued, tmp_path: Path, programs: None) -> None:  # type: ignore[no-untyped-def]
    answered(intake, issued, tmp_path)
    assert run("study", "set", "published_on=2027-03-31", "organisation=志木市").exit_code == 0
    out = tmp_path / "report.pdf"
    result = run("report", "--out", str(out), "--json", extra_env={"SURVEY_DEBUG": "1"})
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    pages = _pages(out)
    reader = PdfReader(out)
    assert len(reader.pages) == summary["report_pages"] + summary["appendix_pages"]
    assert reader.metadata is not None and reader.metadata.author == "志木市"

    # Headings, and contents entries whose page numbers are the pages the headings are on.
    text = "\f".join(pages)
    assert "令和9年3月31日" in pages[0] and "志木市" in pages[0]
    toc = pages[1]
    headings = ["第1章　調査の概要", "調査結果の見方", "第2章　調査の結果", "付録　調査票"]
    for heading in headings:
        m = re.search(
            re.escape(heading.replace("　", " ")) + r"[ .]*(\d+)\s*$", toc.replace("　", " "), re.M
        )
        assert m, heading
        page = int(m.group(1))
        assert _squash(heading) in _squash(pages[page - 1]), (heading, page)
    # Each questionnaire starts on the page its contents entry gives (its own page 1).
    entries = re.findall(r"(付録\d) 調査票（(.+?)）[ .]*(\d+)\s*$", toc.replace("　", " "), re.M)
    assert {label for _, label, _ in entries} >= {"一般市民", "高校生"}, entries
    for _, label, page in entries:
        assert re.search(r"第\d+版\s+1\s*/\s*\d+", pages[int(page) - 1]), label
    for caption in ("表1-2", "表1-4　標本誤差早見表", "図2-1", "表2-1"):
        assert caption.replace("　", "") in _squash(text), caption
    outline = [o.title for o in reader.outline if not isinstance(o, list)]
    assert "第1章　調査の概要" in outline and "第2章　調査の結果" in outline
    assert any(t.startswith("付録1") for t in outline)

    # Fonts: every one embedded, none of the standard 14.
    fonts = subprocess.run(["pdffonts", str(out)], check=True, capture_output=True, text=True)
    rows = fonts.stdout.splitlines()[2:]
    assert rows
    for row in rows:
        name, *_, emb, _sub, _uni, _obj, _gen = row.split()
        assert emb == "yes", row
        assert not STANDARD_14.match(name.split("+")[-1]), row

    # The sampling-error quick reference against a hand computation.
    with issued.db.session(write=False) as session:
        study = session.exec(select(Study)).one()
        inputs = load_inputs(session, study)
    general = next(c for c in inputs.counts if c.cohort == "general")
    frame, n = general.frame, general.responses
    expect = [
        1.96 * math.sqrt((frame - n) / (frame - 1) * p * (1 - p) / n) * 100
        for p in (0.1, 0.2, 0.3, 0.4, 0.5)
    ]
    line = next(x for x in text.splitlines() if x.strip().startswith("一般市民") and "±" in x)
    assert re.findall(r"±(\d+\.\d)", line) == [f"{e:.1f}" for e in expect], line

    # The sample-design table (表1-2) is the draw's records, exactly.
    draw = inputs.draw
    assert draw is not None
    web = int((inputs.df["cohort"] == "general").sum())  # web answers only in this study
    design = next(x for x in text.splitlines() if re.match(r"\s*一般市民\s+個人\s+\d", x))
    assert design.split()[2:12] == [
        str(draw.frame["general"]),
        str(draw.removed["general"]),
        str(general.frame),
        str(general.sampled),
        str(general.undeliverable),
        str(web),
        "0",
        str(general.responses),
        f"{general.responses / (general.sampled - general.undeliverable):.1%}",
        f"{general.weight:.2f}",
    ], design

    # No figure in the results that is not a published cell.
    analysis = tables.build(inputs.df, inputs.design, current_forms(load_forms()))
    disclosure.apply(analysis, inputs.threshold)
    allowed: set[str] = set()
    hidden = 0
    for t in analysis.tables:
        for c in t.all_cells():
            if c.suppressed:
                hidden += 1
            elif not c.base and not math.isnan(c.pct):
                allowed |= {f"{round(v, 1):.1f}" for v in (c.pct, c.low, c.high)}
    assert hidden > 0
    start = next(
        i for i, p in enumerate(pages) if "第2章 調査の結果" in p.replace("　", " ") and i > 1
    )
    end = next(
        i for i, p in enumerate(pages) if "付録 調査票" in p.replace("　", " ") and i > start
    )
    results = "\n".join(pages[start:end])
    found = ONE_DECIMAL.findall(results)
    assert found
    assert set(found) <= allowed, sorted(set(found) - allowed)
    assert "＊" in results
    assert "が最も高く" in results  # the generated sentence per item
    assert "nan" not in results.lower()

    # The appendices hold every question's text.
    appendix = _squash("\n".join(pages[end:]))
    forms = current_forms(load_forms())
    for cohort in ("general", "high_school"):
        for item in forms[cohort].items():
            assert _squash(item.text.ja)[:20] in appendix, (cohort, item.id)
    assert f"調査票（{COHORT_LABELS['general']}）" in appendix

    # One page of each chapter, to look at: in SURVEY_TEST_ARTIFACTS when set (kept).
    artifacts = Path(os.environ.get("SURVEY_TEST_ARTIFACTS") or tmp_path) / "report"
    artifacts.mkdir(parents=True, exist_ok=True)
    ch1 = next(
        i for i, p in enumerate(pages) if "第1章 調査の概要" in p.replace("　", " ") and i > 1
    )
    guide = next(i for i, p in enumerate(pages) if "調査結果の見方" in p and i > ch1)
    for name, index in (
        ("cover", 0),
        ("toc", 1),
        ("ch1", ch1),
        ("ch1-guide", guide),
        ("ch2", start + 1),
        ("appendix", end + 1),
    ):
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "70",
                "-f",
                str(index + 1),
                "-l",
                str(index + 1),
                "-singlefile",
                str(out),
                str(artifacts / name),
            ],
            check=True,
        )


def _cell(n: int, pct: float, suppressed: bool = False, base: bool = False) -> Cell:
    return Cell(("k", n), n, pct, pct - 5, pct + 5, (), base, 50, False, suppressed)


def _table(cells: list[Cell], kind: str = "single") -> Table:
    rows = ["はい", "いいえ", "無回答", "回答者数（基数）"]
    return Table(
        "t", "問", "general", "q", None, kind, rows, ["一般市民"], [[c] for c in cells], "q"
    )


def test_sentence_names_the_largest_published_category() -> None:
    options = {"はい", "いいえ"}
    base = _cell(50, math.nan, base=True)
    t = _table([_cell(20, 40.04), _cell(25, 50.0), _cell(5, 9.96), base])
    assert sentence(t, options) == "「いいえ」が最も高く、50.0%でした。"
    tied = _table([_cell(25, 50.0), _cell(25, 50.0), _cell(0, 0.0), base])
    assert sentence(tied, options) == "「はい」「いいえ」が同率で最も高く、50.0%でした。"
    # A larger hidden share: the sentence speaks of the shown categories only.
    hidden = _table([_cell(12, 24.0), _cell(38, 76.0, suppressed=True), _cell(0, 0.0), base])
    assert sentence(hidden, options) == "表示している区分では、「はい」が最も高く、24.0%でした。"
    multi = _table([_cell(30, 60.0), _cell(20, 40.0), _cell(0, 0.0), base], "multi")
    assert sentence(multi, options) == "「はい」を選んだ人の割合が最も高く、60.0%でした。"
    none = _table([_cell(3, 6.0, True), _cell(47, 94.0, True), _cell(0, 0.0), base])
    assert sentence(none, options) == "公表できる数値がないため、説明を省略します。"


def test_quick_reference_by_hand() -> None:
    # N' = 1000, n = 400, p = 50 %: 600/999 · 0.25/400 = 0.00037538, √ = 0.019375,
    # × 1.96 = 0.03797: ±3.8 points.
    (row,) = quick_reference([("一般市民", 1000, 400), ("中学生", 151, 0)])
    assert row.margins[-1] == pytest.approx(1.96 * math.sqrt(600 / 999 * 0.25 / 400) * 100)
    assert f"{row.margins[-1]:.2f}" == "3.80"
    assert margin(400, 400, 30) == 0.0  # everyone asked: no sampling error
