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
# The vendor file's columns: Japanese headers by default (what a mailing vendor reads), with
# the cohort as the labels print it and the label's own sequence tag, so envelopes can be
# matched to labels; ``headers="en"`` keeps the original English columns exactly.
VENDOR_COLUMNS_JA = ("区分", "連番", "郵便番号", "住所", "方書", "宛名")
VENDOR_COLUMNS = ("cohort", "postal_code", "address", "building", "addressee")
HEADERS = ("ja", "en")


def label_tag(batch: Batch, index: int) -> str:
    """「乳幼児 1」: printed small on the outgoing envelope's label (and in the vendor file)
    only. Never on a questionnaire, a slip or a return envelope: it would tie a returned
    sheet to a label, and so to a person."""
    return f"{SHORT_COHORT[batch.cohort]} {index + 1}"


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
            draw_address_block(canvas, fonts, record, boxes[slot], tag=label_tag(batch, i))
            count += 1
        canvas.showPage()
    canvas.save()
    return count


def write_vendor_csv(
    path: Path, batches: Sequence[Batch], encoding: str = "cp932", headers: str = "ja"
) -> tuple[int, list[str]]:
    """The label data for a printing vendor, in batch order (the labels' order).

    CP932 (what Japanese vendors' systems expect) cannot hold every register character:
    such characters are written as 〓 and reported (line, column, code point), never with
    the rest of the name or address. A text cell that would start a formula is quoted
    (survey.spreadsheet), as in every CSV the office writes.
    """
    problems: list[str] = []
    rows = 0
    japanese = headers == "ja"
    columns = VENDOR_COLUMNS_JA if japanese else VENDOR_COLUMNS
    with path.open("w", encoding=encoding, errors="strict", newline="") as fh:
        writer = csv_writer(fh)
        writer.writerow(columns)
        for batch in batches:
            for i, record in enumerate(batch.records):
                rows += 1
                place = [
                    postal_display(record.postal_code),
                    record.address,
                    record.building,
                    record.addressee,
                ]
                if japanese:
                    values = [SHORT_COHORT[batch.cohort], label_tag(batch, i), *place]
                else:
                    values = [batch.cohort, *place]
                line = rows + 1
                writer.writerow(
                    [
                        _encodable(v, encoding, line, c, problems)
                        for c, v in zip(columns, values, strict=True)
                    ]
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
