"""``survey report`` on a small drawn study with web answers (the analyze test's data): the
sections and their contents entries, embedded fonts only, the sampling-error table by hand,
no figure in the results, the tabulation or the assets that is not a published cell, the
自由意見 section (approved redacted excerpts only), the questionnaires merged in, golden text
of selected pages; and the report after an erasure of
the personal data, on both backends.

Regenerate the golden pages after an intended change with
``SURVEY_UPDATE_GOLDEN=1 pytest tests/analysis/test_report.py -k test_report`` and review
the diff like code."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import Session, select

from mailing.fonts import FontSet
from survey.analysis import disclosure, opinions, tables
from survey.analysis.chisq import ChisqResult
from survey.analysis.disclosure import MARK
from survey.analysis.inputs import load as load_inputs
from survey.analysis.report import crosstab
from survey.analysis.report import opinions as report_opinions
from survey.analysis.report.assets import INDEX_SHEET, XLSX_NAME, Outputs
from survey.analysis.report.precision import margin, quick_reference
from survey.analysis.report.results import Numbers, headline_sentences, sentence
from survey.analysis.report.style import Heading, ReportDoc, Styles
from survey.analysis.run import published_test
from survey.analysis.tables import Cell, Table
from survey.cohorts import COHORT_LABELS
from survey.collector.intake import Intake
from survey.forms.items.text import OPINIONS
from survey.forms.loader import current_forms, load_forms
from survey.models import RosterUnit, Study
from tests.analysis.test_analyze_cli import answered
from tests.conftest import Issued, require_program
from tests.erasure import conftest as erasure
from tests.erasure.conftest import Erasable
from tests.mailing.test_golden import compare

pytestmark = pytest.mark.slow  # long: scheduled first (tests/conftest.py)

erasable = erasure.erasable  # the erasure tests' fixture: a drawn study and its staff

STANDARD_14 = re.compile(r"^(Helvetica|Times|Courier|Symbol|ZapfDingbats)")
ONE_DECIMAL = re.compile(r"(?<![\d.])\d{1,3}\.\d(?![\d])")


def _pages(pdf: Path, layout: bool = True) -> list[str]:
    """The text of each page; without the layout, in reading order (column by column)."""
    args = ["pdftotext", *(["-layout"] if layout else []), str(pdf), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.split("\f")


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _fonts_embedded_truetype(pdf: Path) -> None:
    """Every font embedded, TrueType (simple or CID), none of the standard 14, no Type 3."""
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True)
    rows = fonts.stdout.splitlines()[2:]
    assert rows
    for row in rows:
        name, *kind, _enc, emb, _sub, _uni, _obj, _gen = row.split()
        assert emb == "yes", row
        assert not STANDARD_14.match(name.split("+")[-1]), row
        assert " ".join(kind) in ("TrueType", "CID TrueType"), row
        assert "IPAex" in name, row  # the charts' tick numbers too: one font family


def _toc_entries(toc: str) -> list[tuple[str, int]]:
    return [
        (m.group(1).strip(), int(m.group(2)))
        for m in re.finditer(r"^\s*(\S.*?)[ .]{3,}(\d+)\s*$", toc.replace("　", " "), re.M)
    ]


@pytest.fixture(scope="module")
def programs() -> None:
    for name in ("pdftotext", "pdffonts", "pdftoppm"):
        require_program(name, shutil.which(name) is not None)


# sqlite_only: as the analyze test, the report reads the dataset once; the rest is the same
# computation on either backend.
APPROVED = "相談できる場所を、もっと広く知らせてほしい。"
UNAPPROVED = "まだ公表可にしていない編集文です。"


def _coded(issued: Issued) -> None:
    """Every general answer to ``opinion`` coded; one approved excerpt, one redacted but not
    approved; the students' item left uncoded."""
    with issued.db.session() as session:
        study = session.exec(select(Study)).one()
        category = opinions.add_category(session, study, "相談窓口の周知", "analyst")
        assert category.id is not None
        general = [a for a in opinions.answers(session, study, "opinion") if a.cohort == "general"]
        assert len(general) >= 2
        for a in general:
            assert a.text.id is not None
            opinions.code(session, study, a.text.id, [category.id], None, "analyst")
        first, second = (a.text.id for a in general[:2])
        assert first is not None and second is not None
        opinions.code(session, study, first, [category.id], APPROVED, "analyst")
        opinions.approve(session, study, first, "analyst", flags_reviewed=False)
        opinions.code(session, study, second, [category.id], UNAPPROVED, "analyst")
        session.commit()


@pytest.mark.sqlite_only
def test_report(run, intake: Intake, issued: Issued, tmp_path: Path, programs: None) -> None:  # type: ignore[no-untyped-def]
    answered(intake, issued, tmp_path)
    _coded(issued)
    assert run("study", "set", "published_on=2027-03-31", "organisation=志木市").exit_code == 0
    out = tmp_path / "report.pdf"
    assets = tmp_path / "assets"
    result = run(
        "report",
        "--out",
        str(out),
        "--assets",
        str(assets),
        "--json",
        extra_env={"SURVEY_DEBUG": "1"},
    )
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    pages = _pages(out)
    reader = PdfReader(out)
    assert len(reader.pages) == summary["pages"]
    assert summary["pages"] == summary["report_pages"] + summary["appendix_pages"]
    assert reader.metadata is not None and reader.metadata.author == "志木市"

    # Headings, and contents entries whose page numbers are the pages the headings are on.
    text = "\f".join(pages)
    assert "令和9年3月31日" in pages[0] and "志木市" in pages[0]
    toc = pages[1]
    entries = _toc_entries(toc)
    titles = [t for t, _ in entries]
    for heading in ("第1章 調査の概要", "6 調査結果の見方", "第2章 調査の結果", "付録 調査票"):
        assert heading in titles, (heading, titles)
    assert "付録 単純集計表" in titles and "単純集計表（一般市民）" in titles, titles
    assert any(t.endswith(" 自由意見") for t in titles), titles
    # Every entry's page shows its heading (a questionnaire's first page its own title).
    for title, page in entries:
        if title.startswith("付録") and "調査票（" in title:
            continue  # checked below: the booklet's first page
        assert _squash(title) in _squash(pages[page - 1]), (title, page)
    # Each questionnaire starts on the page its contents entry gives (its own page 1).
    entries = re.findall(r"(付録\d) 調査票（(.+?)）[ .]*(\d+)\s*$", toc.replace("　", " "), re.M)
    assert {label for _, label, _ in entries} >= {"一般市民", "高校生"}, entries
    for _, label, page in entries:
        assert re.search(r"第\d+版\s+1\s*/\s*\d+", pages[int(page) - 1]), label
    for caption in ("表1-2", "表1-4　標本誤差早見表", "図1-1　対象別の回答率", "図2-1", "表2-1"):
        assert caption.replace("　", "") in _squash(text), caption
    # The cross-tabs: by sex and age band (general); the students' by grade have nothing
    # published in this small study (16 answers), and say so in one line each.
    assert "×性別" in text and "×年齢" in text and "学年別の集計は" in text
    top = [o.title for o in reader.outline if not isinstance(o, list)]
    assert "第1章　調査の概要" in top and "第2章　調査の結果" in top and "付録　単純集計表" in top
    nested = [o.title for x in reader.outline if isinstance(x, list) for o in x]
    assert any(t.startswith("付録1") for t in nested)  # under 付録 調査票
    assert any(t.endswith("　自由意見") for t in nested)  # under 第2章

    # Fonts: every one embedded, none of the standard 14; the charts are vector (their
    # text is in the page's text, e.g. the n= of each chart title).
    _fonts_embedded_truetype(out)
    assert re.search(r"\(n=\d+\)|（n=\d+）", text)

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
    # The cross-tabs' Rao–Scott results: each one whose cells are all published, and a line
    # saying why for each other tested cross-tab that is printed.
    printed = [
        t
        for t in analysis.tables
        if t.by and any(not c.suppressed and not c.base for c in t.all_cells())
    ]
    shown = [t for t in printed if published_test(t) is not None]
    withheld = [t for t in printed if t.test is not None and published_test(t) is None]
    assert withheld
    assert _squash(text).count("Rao–Scottの補正χ²検定") == len(shown)
    assert _squash(text).count("検定の結果は、秘匿した数値から") == len(withheld)
    start = next(
        i for i, p in enumerate(pages) if "第2章 調査の結果" in p.replace("　", " ") and i > 1
    )
    end = next(
        i for i, p in enumerate(pages) if "付録 調査票" in p.replace("　", " ") and i > start
    )
    tabulation = next(
        i for i, p in enumerate(pages) if "付録 単純集計表" in p.replace("　", " ") and i > end
    )
    results = "\n".join(pages[start:end] + pages[tabulation:])
    found = ONE_DECIMAL.findall(results)
    assert found
    assert set(found) <= allowed, sorted(set(found) - allowed)
    assert "＊" in results
    assert "が最も高く" in results  # the generated sentence per item
    assert "nan" not in results.lower()
    # The simple tabulation holds every tabled item of the cohorts that answered.
    simple = _squash("\n".join(_pages(out, layout=False)[tabulation:]))
    for t in analysis.tables:
        if t.by is None and t.kind != "summary" and t.group in ("general", "high_school"):
            title = t.title.removesuffix(f"（{COHORT_LABELS[t.group]}）")
            assert _squash(title)[:30] in simple, t.id

    # The assets: a sheet per 表 of the PDF and a PNG per 図, and no other figure.
    assets = tmp_path / "assets"
    book = load_workbook(assets / XLSX_NAME, read_only=True)
    captions = set(re.findall(r"^\s*(表\d+-\d+)\s", text, re.M))
    assert captions and captions <= set(book.sheetnames), sorted(captions - set(book.sheetnames))
    figures = set(re.findall(r"^\s*(図\d+-\d+)\s", text, re.M))
    assert figures == {p.stem for p in (assets / "charts").glob("*.png")}
    assert INDEX_SHEET in book.sheetnames and "単純集計表（一般市民）" in book.sheetnames
    for name in book.sheetnames:
        if not (name.startswith("表2-") or name.startswith("単純集計表")):
            continue
        for row in book[name].iter_rows(values_only=True):
            for v in row:
                if isinstance(v, float):
                    assert f"{v:.1f}" in allowed, (name, v)

    # 自由意見: the coded counts, the approved excerpt quoted with its cohort, never an
    # unapproved one or an original answer (in the PDF or the assets).
    section = next(i for i, p in enumerate(pages) if "自由意見" in p and start < i < end)
    squashed = _squash(text)
    assert _squash(f"「{APPROVED}」（一般市民）") in squashed
    assert _squash(report_opinions.NO_EXCERPTS) in squashed  # the students' item
    assert _squash(report_opinions.NO_CODING) in squashed
    assert "相談窓口の周知" in text
    sheets = [
        str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row
    ]
    assert APPROVED in sheets
    for leak in (UNAPPROVED, *OPINIONS):
        assert _squash(leak) not in squashed and leak not in sheets, leak

    # The appendices hold every question's text.
    appendix = _squash("\n".join(pages[end:tabulation]))
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
        ("ch2", start),
        ("ch2-items", start + 2),
        ("ch2-opinions", section),
        ("appendix", end + 1),
        ("tabulation", tabulation),
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
        assert (artifacts / f"{name}.png").stat().st_size > 5000

    # Golden text of pages that say how the study was done and how to read it, and where
    # the results and the tabulation begin (the data are the seeded draw and answers).
    golden = [pages[i] for i in (1, ch1, guide, start, tabulation)]
    compare("report-pages.txt", "\f".join(re.sub(r"[ \t]+$", "", p, flags=re.M) for p in golden))


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


def _cross(suppressed: bool) -> Table:
    """A 2x2 cross-tab (total column and two groups) with a test result."""
    cells = [
        [_cell(30, 60.0), _cell(18, 72.0), _cell(12, 48.0, suppressed)],
        [_cell(20, 40.0), _cell(7, 28.0), _cell(13, 52.0, suppressed)],
        [
            _cell(50, math.nan, base=True),
            _cell(25, math.nan, base=True),
            _cell(25, math.nan, base=True),
        ],
    ]
    t = Table(
        "t__by_sex", "問（一般市民）×性別", "general", "q", "sex", "single",
        ["はい", "いいえ", "回答者数（基数）"], ["全体", "男性", "女性"], cells, "q",
    )  # fmt: skip
    t.test = ChisqResult(statistic=4.2, ndf=1.0, ddf=48.0, p_value=0.046, pearson=4.3)
    return t


def test_cross_tab_rows_are_groups_and_the_test_needs_every_cell_published() -> None:
    shown = _cross(False)
    frame = crosstab.frame(shown)
    assert list(frame.columns) == ["性別", "回答者数", "はい", "いいえ"]
    assert frame.values.tolist() == [
        ["全体", 50, 60.0, 40.0],
        ["男性", 25, 72.0, 28.0],
        ["女性", 25, 48.0, 52.0],
    ]
    line = crosstab.test_sentence(shown)
    assert line is not None and "F = 4.20" in line and "p = 0.046" in line
    assert "有意な差があります" in line
    # A suppressed cell: ＊ in its place, and no test (its statistic uses every cell).
    hidden = _cross(True)
    assert crosstab.frame(hidden).values.tolist()[2] == ["女性", 25, MARK, MARK]
    assert crosstab.test_sentence(hidden) is None
    # A suppressed group (its base): the whole row ＊.
    hidden.cells[2][2].suppressed = True  # type: ignore[union-attr]
    assert crosstab.frame(hidden).values.tolist()[2] == ["女性", MARK, MARK, MARK]


def test_report_after_a_personal_erasure(erasable: Erasable, programs: None) -> None:
    """The study's answers outlive its personal data: after the erasure the report builds
    (on each backend), the same results, every font embedded."""
    assert erasable.run("collector", "install").exit_code == 0
    codes: dict[str, list[str]] = {}
    with (erasable.tmp / "print" / "codes.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            codes.setdefault(row["cohort"], []).append(row["code"])
    issued = Issued(codes, erasable.db, erasable.settings)
    answered(Intake(erasable.db.engine, erasable.settings, issued.study), issued, erasable.tmp)
    request_id = erasable.signed()
    result = erasable.execute(
        request_id, erasable.tmp / "cert.json", "--checked", "spare_labels_slips"
    )
    assert result.exit_code == 0, result.stderr
    with Session(erasable.db.engine) as session:
        assert session.exec(select(RosterUnit)).first() is None  # the personal data are gone
    out = erasable.tmp / "report.pdf"
    result = erasable.run("report", "--out", str(out), "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert len(PdfReader(out).pages) == summary["pages"] and summary["tables"] > 0
    text = "\f".join(_pages(out))
    assert "第2章 調査の結果" in text.replace("　", " ") and "単純集計表（一般市民）" in text
    _fonts_embedded_truetype(out)


def test_headlines_state_each_published_share_with_its_interval() -> None:
    cells: list[list[Cell | None]] = [
        [_cell(12, 14.26), _cell(6, 7.0, suppressed=True)],
        [_cell(3, 5.0, suppressed=True), None],
    ]
    t = Table(
        "summary__k6_headlines", "K6", "all", "k6_10plus", None, "summary",
        ["一般市民", "高校生"], ["10点以上", "13点以上"], cells, "k6_10plus",
    )  # fmt: skip
    lines = [p.text for p in headline_sentences(t, Styles("Helvetica"))]
    assert lines == [
        "・一般市民: 10点以上 14.3%（95%信頼区間 9.3～19.3%）、13点以上 ＊",
        "・高校生: 10点以上 ＊",
    ]
    for row in cells:
        for c in row:
            if c is not None:
                c.suppressed = True
    (line,) = [p.text for p in headline_sentences(t, Styles("Helvetica"))]
    assert "公表できる数値はありません" in line


def test_opinions_section_quotes_excerpts_as_text(tmp_path: Path) -> None:
    """Typed text (a category, an excerpt) is set as text, never parsed as markup; an item
    without coding or excerpts says so; numbering runs on."""
    forms = current_forms(load_forms())
    frame = pd.DataFrame({"分類": ["<i>学校</i> & 地域"], "一般市民": [12], "高校生": [MARK]})
    rows = [["opinion", "一般市民", "", "<b>太字</b> & 記号"]]
    excerpts = pd.DataFrame(rows, columns=opinions.EXCERPT_COLUMNS)
    published = opinions.Published({"opinion": frame}, excerpts)
    fonts = FontSet.load()
    styles = Styles(fonts.main)
    nums = Numbers(2)
    nums.table()
    outputs = Outputs(tmp_path)
    story = report_opinions.section(published, forms, styles, nums, outputs, 4)
    assert nums.tables == 2 and "表2-2" in outputs.sheets
    assert report_opinions.section(published, {}, styles, nums, outputs, 4) == []
    pdf = tmp_path / "s.pdf"
    ReportDoc(str(pdf), fonts, "t", "a").build([Heading("第2章", styles.h1, 0, "ch2"), *story])
    text = _squash("\n".join(_pages(pdf)))
    assert _squash("「<b>太字</b> & 記号」（一般市民）") in text
    assert _squash("<i>学校</i> & 地域") in text
    assert _squash(report_opinions.NO_CODING) in text  # st_opinion
    assert _squash(report_opinions.NO_EXCERPTS) in text
