"""Golden files: the label and postcard PDFs of a fixed roster, as extracted text.

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
from mailing.labels import write_label_sheets
from mailing.layouts import get_layout
from mailing.postcards import write_postcards
from survey.roster import RosterRecord
from survey.study import DEFAULT_CRISIS_LINES
from tests.mailing.conftest import pdf_text

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
    "fieldwork_end": "2026-07-31",
    "crisis_lines": DEFAULT_CRISIS_LINES,
}


def compare(name: str, text: str) -> None:
    text = re.sub(r"作成日 \d{4}-\d{2}-\d{2}", "作成日 YYYY-MM-DD", text)
    path = GOLDEN / name
    if os.environ.get("SURVEY_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with SURVEY_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("layout", ["a4-12", "a4-24"])
def test_label_sheets_golden(tmp_path: Path, layout: str) -> None:
    out = tmp_path / "labels.pdf"
    write_label_sheets(out, batches(RECORDS, SETTINGS), get_layout(layout), FontSet.load())
    compare(f"labels-{layout}.txt", pdf_text(out))


def test_postcards_golden(tmp_path: Path) -> None:
    out = tmp_path / "postcards.pdf"
    write_postcards(out, batches(RECORDS, SETTINGS), None, FontSet.load(), SETTINGS)
    compare("postcards-hagaki.txt", pdf_text(out))


def test_pdfs_are_reproducible(tmp_path: Path) -> None:
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    for path in (a, b):
        write_label_sheets(path, batches(RECORDS, SETTINGS), get_layout("a4-12"), FontSet.load())
    assert a.read_bytes() == b.read_bytes()
