"""Golden files: the label, postcard and code-slip PDFs of a fixed roster and fixed codes, as
extracted text, and the vendor CSV; one PNG of each print file's pages for a person to look
at (build/test-artifacts/, or SURVEY_TEST_ARTIFACTS).

Regenerate after an intended change with
``SURVEY_UPDATE_GOLDEN=1 pytest tests/mailing/test_golden.py`` and review the diff like code.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from mailing.batches import batches
from mailing.fonts import FontSet
from mailing.labels import write_label_sheets, write_vendor_csv
from mailing.layouts import get_layout
from mailing.postcards import write_postcards
from mailing.slips import write_slips
from survey.access_codes import IssuedCode
from survey.roster import RosterRecord
from survey.study import DEFAULT_CRISIS_LINES
from tests.mailing.conftest import PUBLIC_URL, pdf_pages, pdf_text, poppler

GOLDEN = Path(__file__).parent.parent / "golden"
RECORDS = [
    RosterRecord(
        "general",
        "9001",
        "9001",
        "志木　花子",
        "シキ　ハナコ",
        "3530004",
        "埼玉県志木市本町10丁目2番3号",
        "パークハイツ志木101号室",
    ),
    RosterRecord(
        "general",
        "9002",
        "9002",
        "髙橋　一郎",
        "タカハシ　イチロウ",
        "3530004",
        "埼玉県志木市本町2丁目5番1号",
        "",
    ),
    RosterRecord(
        "general",
        "9003",
        "9003",
        "山﨑　葵",
        "ヤマザキ　アオイ",
        "3530001",
        "埼玉県志木市上宗岡1丁目1番1号",
        "",
    ),
    RosterRecord(
        "elementary_guardian",
        "H1",
        "8001",
        "宗岡　蓮",
        "ムネオカ　レン",
        "3530002",
        "埼玉県志木市中宗岡3丁目3番3号",
        "",
    ),
    RosterRecord(
        "infant_guardian",
        "H2",
        "8002",
        "柏　結衣",
        "カシワ　ユイ",
        "3530007",
        "埼玉県志木市柏町1丁目2番3号",
        "",
        "4か月児健診",
        "2026-06",
    ),
]
SETTINGS = {
    "infant_frame": "checkup",
    "school_cohorts": ["elementary_guardian"],
    "web_cohorts": ["elementary_guardian", "high_school", "general"],
    "fieldwork_end": "2026-07-31",
    "crisis_lines": DEFAULT_CRISIS_LINES,
    "organisation": "志木市",
    "section": "健康政策課",
    "office_address": "〒353-8501 埼玉県志木市中宗岡1丁目1番1号",
    "office_phone": "048-473-1111",
    "office_hours": "平日 8時30分〜17時15分",
    "postage_mark": "後納",
    "postage_permit": "志木郵便局",
}
# A study's own lines beside the national ones: long names, hours, a handle (no phone).
CITY_LINES = [
    *DEFAULT_CRISIS_LINES,
    {
        "name": "志木市 こころの健康相談（保健センター・予約制、匿名でも相談できます）",
        "name_en": "Shiki city mental health counselling",
        "number": "048-473-3800",
        "hours": "平日 9時〜17時",
    },
]
WEB = ["elementary_guardian", "high_school", "general"]
CODES = [
    IssuedCode("general", "7K3MQ9TX2B4RH"),
    IssuedCode("general", "ABCDEFGHJKMNP"),
    IssuedCode("junior_high", "0123456789ABC"),
]
FINGERPRINT = "97VW-N8TV-7Y0N-T1EN-ZCKD-2MYA-AEJA-X9X4"
ARTIFACTS = Path(os.environ.get("SURVEY_TEST_ARTIFACTS", "build/test-artifacts"))
# 「乳幼児 1」: a label's sequence tag, which belongs to the outgoing envelope only.
LABEL_TAG = re.compile(r"(?<!\S)(乳幼児|小学生保護者|中学生|高校生|一般) \d+(?=\s)")


def compare(name: str, text: str) -> None:
    text = re.sub(r"作成日 \d{4}-\d{2}-\d{2}", "作成日 YYYY-MM-DD", text)
    path = GOLDEN / name
    if os.environ.get("SURVEY_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with SURVEY_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def artifact(pdf: Path, name: str, pages: list[int]) -> None:
    """PNGs of a print file for a person to look at: build/test-artifacts/<name>-<page>.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for page in pages:
        target = ARTIFACTS / f"{name}-{page}"
        poppler(
            "pdftoppm",
            "-r",
            "100",
            "-f",
            str(page),
            "-l",
            str(page),
            "-png",
            "-singlefile",
            str(pdf),
            str(target),
        )
        assert target.with_suffix(".png").stat().st_size > 5000


def write_golden_slips(path: Path, settings: dict[str, object] = SETTINGS) -> None:
    write_slips(path, CODES, FontSet.load(), WEB, PUBLIC_URL, FINGERPRINT, settings)


def write_golden_postcards(path: Path, settings: dict[str, object] = SETTINGS) -> None:
    found = batches(RECORDS, settings)
    write_postcards(path, found, None, FontSet.load(), settings, WEB, PUBLIC_URL)


@pytest.mark.parametrize("layout", ["a4-12", "a4-24"])
def test_label_sheets_golden(tmp_path: Path, layout: str) -> None:
    out = tmp_path / "labels.pdf"
    write_label_sheets(out, batches(RECORDS, SETTINGS), get_layout(layout), FontSet.load())
    compare(f"labels-{layout}.txt", pdf_text(out))


def test_postcards_golden(tmp_path: Path) -> None:
    out = tmp_path / "postcards.pdf"
    write_golden_postcards(out)
    compare("postcards-hagaki.txt", pdf_text(out))
    pages = pdf_pages(out)
    # Three batches: three A4 header sheets first, then the cards' two sides each.
    assert [p.count("バッチ見出し") for p in pages[:4]] == [1, 1, 1, 0]
    general = next(i for i, p in enumerate(pages, 1) if "花子 様" in p)
    artifact(out, "postcards", [1, general, general + 1])


def test_slips_golden(tmp_path: Path) -> None:
    out = tmp_path / "slips.pdf"
    write_golden_slips(out)
    compare("slips.txt", pdf_text(out))
    artifact(out, "slips", [1, 2, 4])


def test_vendor_csv_golden(tmp_path: Path) -> None:
    for headers in ("ja", "en"):
        out = tmp_path / f"vendor-{headers}.csv"
        write_vendor_csv(out, batches(RECORDS, SETTINGS), "utf-8", headers)
        compare(f"vendor-{headers}.csv", out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("lines", ["national", "with a city line"])
def test_crisis_numbers_are_never_broken(tmp_path: Path, lines: str) -> None:
    """Every page that lists the crisis lines shows every configured number whole, whatever
    the names' lengths (pdftotext -layout keeps a line's text in order)."""
    settings = {
        **SETTINGS,
        "crisis_lines": CITY_LINES if lines != "national" else DEFAULT_CRISIS_LINES,
    }
    numbers = [line["number"] for line in settings["crisis_lines"]]  # type: ignore[union-attr]
    slips, postcards = tmp_path / "slips.pdf", tmp_path / "postcards.pdf"
    write_golden_slips(slips, settings)
    write_golden_postcards(postcards, settings)
    listed = [
        page for pdf in (slips, postcards) for page in pdf_pages(pdf) if "相談してください" in page
    ]
    assert len(listed) == 2 + 5  # two pages of slips; one message side per postcard
    for page in listed:
        flat = [" ".join(line.split()) for line in page.splitlines()]
        for number in numbers:
            whole = " ".join(number.split())
            assert any(whole in line for line in flat), (number, page)
            assert page.count(number.split()[0]) >= 1


def test_no_label_tag_on_slips_or_postcards(tmp_path: Path) -> None:
    """The sequence tag ties a label to a person's envelope: only the label and the vendor
    file carry it; a slip or a postcard printed with it could tie an answer to a person."""
    slips, postcards, labels = tmp_path / "s.pdf", tmp_path / "p.pdf", tmp_path / "l.pdf"
    write_golden_slips(slips)
    write_golden_postcards(postcards)
    write_label_sheets(labels, batches(RECORDS, SETTINGS), get_layout("a4-12"), FontSet.load())
    assert LABEL_TAG.findall(pdf_text(labels))  # the labels do carry it
    assert not LABEL_TAG.findall(pdf_text(slips)) and not LABEL_TAG.findall(pdf_text(postcards))


def test_pdfs_are_reproducible(tmp_path: Path) -> None:
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    for path in (a, b):
        write_label_sheets(path, batches(RECORDS, SETTINGS), get_layout("a4-12"), FontSet.load())
    assert a.read_bytes() == b.read_bytes()
