"""Address label sheets and the printing vendor's CSV."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mailing.address import draw_address_block
from mailing.batches import Batch
from mailing.fonts import MISSING_MARK, FontSet
from mailing.layouts import LabelLayout
from mailing.pdf import header_sheet, new_canvas
from survey.postal import postal_display
from survey.spreadsheet import writer as csv_writer

SHORT_COHORT = {
    "infant_guardian": "乳幼児",
    "elementary_guardian": "小学生保護者",
    "junior_high": "中学生",
    "high_school": "高校生",
    "general": "一般",
}
VENDOR_COLUMNS = ("cohort", "postal_code", "address", "building", "addressee")


def batch_lines(batch: Batch, layout: LabelLayout, what: str) -> list[str]:
    sheets = -(-len(batch.records) // layout.per_sheet)
    lines = [
        f"対象: {batch.label}（{batch.cohort}）",
        f"件数: {len(batch.records):,} 件（{layout.description}、{sheets} 枚）",
        f"配布方法: {batch.method_label}",
        f"並び順: {batch.order_label}",
    ]
    lines += [f"　{group}: {n:,} 件" for group, n in batch.groups()]
    lines.append(f"内容: {what}")
    return lines


def write_label_sheets(
    path: Path,
    batches: Sequence[Batch],
    layout: LabelLayout,
    fonts: FontSet,
    title: str = "宛名ラベル",
    what: str = "調査票送付用の宛名ラベル",
) -> int:
    """One PDF: per cohort a header sheet, then its labels from a fresh sheet. Returns labels."""
    canvas = new_canvas(path, title, fonts)
    boxes = layout.boxes()
    count = 0
    for batch in batches:
        header_sheet(canvas, fonts, title, batch_lines(batch, layout, what))
        for i, record in enumerate(batch.records):
            slot = i % layout.per_sheet
            if i and slot == 0:
                canvas.showPage()
            tag = f"{SHORT_COHORT[batch.cohort]} {i + 1}"
            draw_address_block(canvas, fonts, record, boxes[slot], tag=tag)
            count += 1
        canvas.showPage()
    canvas.save()
    return count


def write_vendor_csv(
    path: Path, batches: Sequence[Batch], encoding: str = "cp932"
) -> tuple[int, list[str]]:
    """The label data for a printing vendor, in batch order.

    CP932 (what Japanese vendors' systems expect) cannot hold every register character:
    such characters are written as 〓 and reported (line, column, code point), never with
    the rest of the name or address. A text cell that would start a formula is quoted
    (survey.spreadsheet), as in every CSV the office writes.
    """
    problems: list[str] = []
    rows = 0
    with path.open("w", encoding=encoding, errors="strict", newline="") as fh:
        writer = csv_writer(fh)
        writer.writerow(VENDOR_COLUMNS)
        for batch in batches:
            for record in batch.records:
                rows += 1
                values = {
                    "cohort": batch.cohort,
                    "postal_code": postal_display(record.postal_code),
                    "address": record.address,
                    "building": record.building,
                    "addressee": record.addressee,
                }
                line = rows + 1
                writer.writerow(
                    [_encodable(values[c], encoding, line, c, problems) for c in VENDOR_COLUMNS]
                )
    return rows, problems


def _encodable(text: str, encoding: str, line: int, column: str, problems: list[str]) -> str:
    out = []
    for ch in text:
        try:
            ch.encode(encoding)
            out.append(ch)
        except UnicodeEncodeError:
            problems.append(f"{line}行目 {column}: U+{ord(ch):04X} {ch} → {MISSING_MARK}")
            out.append(MISSING_MARK)
    return "".join(out)
