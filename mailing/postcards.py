"""Thank-you/reminder postcards for every sampled unit.

The survey is anonymous, so nobody knows who has answered: the postcard thanks those who
did and reminds the others, and goes to everyone. Layout ``hagaki`` prints plain private
postcards (私製はがき, 100 × 148 mm) on both sides, one card after another:

- the address side (宛名面): the postage mark in the stamp's place (料金後納・料金別納 with
  the permit's post office, study settings ``postage_mark`` and ``postage_permit``), the
  postcode, address and addressee, and the sender (差出人: the study's office);
- the message side (通信面, the same for a whole batch, drawn once as a PDF form): the request
  with the deadline, the web address and a QR code for web-enabled cohorts (the page itself,
  never a code: the card is addressed to a person), whom to ask, and the crisis lines.

The batch header sheets come first, on A4 plain paper, each naming its cards' pages, so no
header is printed on postcard stock. Any label layout prints address labels to stick on
pre-printed postcards instead. Nothing of the label (its sequence number) is printed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from mailing.address import draw_address_block
from mailing.batches import Batch
from mailing.blocks import Block, crisis_table, enquiry, postage_mark, qr, sender
from mailing.fonts import FontSet
from mailing.labels import batch_lines, write_label_sheets
from mailing.layouts import LabelLayout
from mailing.pdf import header_sheet, new_canvas
from survey.errors import DataError
from survey.public import DEFAULT_TITLE, Contact, crisis_lines

HAGAKI = (100 * mm, 148 * mm)
HAGAKI_LAYOUT = LabelLayout("hagaki", 1, 1, 100.0, 74.0, 0.0, 0.0, 100.0, 74.0, "はがき 100×148mm")
MARGIN = 8 * mm  # the address side
SIDE, EDGE = 6 * mm, 7 * mm  # the message side: left and right, top and bottom
WEEKDAYS = "月火水木金土日"
QR_SIZE = 20 * mm


def deadline(study_settings: dict[str, Any]) -> str | None:
    """「7月31日（金）」: the fieldwork end, or None when it is not set (the service warns)."""
    end = study_settings.get("fieldwork_end")
    if not end:
        return None
    day = date.fromisoformat(end)
    return f"{day.month}月{day.day}日（{WEEKDAYS[day.weekday()]}）"


def message(study_settings: dict[str, Any]) -> list[str]:
    when = deadline(study_settings)
    title = study_settings.get("title") or DEFAULT_TITLE
    who = study_settings.get("organisation") or "市"
    return [
        f"先日、「{title}」の調査票をお送りしました。"
        "すでにご回答くださった方には、心よりお礼申し上げます。"
        f"まだの方は、{f'{when}までに' if when else 'お早めに'}"
        "ご回答くださいますようお願いいたします。",
        f"この調査は無記名のため、どなたが回答したかは{who}にも分かりません。"
        "対象のすべての方にお送りしていますので、行き違いの際はご容赦ください。",
    ]


def _frame(canvas: Canvas, x: float, y: float, w: float, h: float) -> None:
    canvas.saveState()
    canvas.setLineWidth(0.8)
    canvas.roundRect(x, y, w, h, 1.5 * mm, stroke=1, fill=0)
    canvas.restoreState()


def _message_side(
    canvas: Canvas, fonts: FontSet, study_settings: dict[str, Any], web: bool, public_url: str
) -> None:
    """The 通信面 of one batch's cards (drawn once inside a PDF form, reused by every card)."""
    width, height = HAGAKI
    inner = width - 2 * SIDE
    head = Block()
    head.line("調査へのご協力のお願い", 11.5)
    head.gap(3)
    for paragraph in message(study_settings):
        head.para(fonts, paragraph, 9.0, inner, leading=1.4)
        head.gap(1.5)
    y = head.draw(canvas, fonts, SIDE, height - EDGE)
    when = deadline(study_settings)
    due = f"回答の締切　{when}" if when else "お早めにご回答ください"
    # Web-enabled cohorts: the QR code of the form's page at the right, beside the deadline
    # and the address, so the crisis lines below keep their room.
    text_w = inner - QR_SIZE - 3 * mm if web else inner
    box_h = 9 * mm
    _frame(canvas, SIDE, y - 2 - box_h, text_w, box_h)
    size = fonts.fit(due, 12.0, text_w - 5 * mm, 9.0)
    fonts.draw(canvas, SIDE + 2.5 * mm, y - 2 - box_h / 2 - size * 0.35, due, size)
    below = y - 2 - box_h - 1.5 * mm
    if web:
        module = qr(canvas, public_url, width - SIDE - QR_SIZE, y - 2 - QR_SIZE, QR_SIZE)
        online = Block()
        online.para(fonts, "スマートフォンやパソコンでも回答できます。", 8.5, text_w)
        online.para(fonts, public_url, 9.0, text_w)
        online.para(fonts, "同封のアクセスコードを入力してください。", 8.5, text_w)
        below = min(online.draw(canvas, fonts, SIDE, below), y - 2 - QR_SIZE - 4 * module)
    y = below - 1.5 * mm
    foot = enquiry(fonts, Contact.of(study_settings), 9.0, inner)
    foot.add(crisis_table(fonts, crisis_lines(study_settings.get("crisis_lines")), inner), 4)
    # The crisis lines sit at the foot, whatever room the message left above them.
    foot.draw(canvas, fonts, SIDE, EDGE + foot.height)
    if EDGE + foot.height > y - 1.5 * mm:
        raise DataError(
            "はがきの文面が長すぎて収まりません（相談窓口・問い合わせ先を短くしてください）。",
            "The postcard's message side does not fit: shorten the crisis lines or the enquiry.",
        )


def _address_frame(canvas: Canvas, fonts: FontSet, study_settings: dict[str, Any]) -> None:
    """What every card's address side shares (drawn once inside a PDF form): the postage
    mark and the sender."""
    width, height = HAGAKI
    postage_mark(canvas, fonts, study_settings, MARGIN, height - MARGIN)
    block = sender(fonts, Contact.of(study_settings), 8.0, width - 2 * MARGIN)
    block.draw(canvas, fonts, MARGIN, MARGIN + block.height)


def _address_side(canvas: Canvas, fonts: FontSet, record: Any) -> None:
    width, height = HAGAKI
    box_top = height - 36 * mm
    draw_address_block(
        canvas,
        fonts,
        record,
        (MARGIN + 2 * mm, box_top - 62 * mm, width - 2 * MARGIN, 62 * mm),
        1.3,
    )


def write_hagaki(
    path: Path,
    batches: Sequence[Batch],
    fonts: FontSet,
    study_settings: dict[str, Any],
    web_cohorts: Sequence[str] = (),
    public_url: str = "",
) -> int:
    canvas = new_canvas(path, "お礼・督促はがき", fonts, pagesize=A4)
    first = len(batches) + 1  # the header sheets come first, one page each
    for batch in batches:
        pages = f"{first:,}〜{first + 2 * len(batch.records) - 1:,}"
        lines = batch_lines(batch, HAGAKI_LAYOUT, "はがき（両面）")
        lines.insert(
            2,
            f"はがき: PDF の {pages} ページ（1枚につき宛名面・通信面の2ページ）",
        )
        lines.append("印刷: この見出しは A4 普通紙に、はがきは両面印刷（長辺とじ）で。")
        header_sheet(canvas, fonts, "お礼・督促はがき", lines)
        first += 2 * len(batch.records)
    count = 0
    canvas.setPageSize(HAGAKI)
    canvas.beginForm("address-frame", 0, 0, *HAGAKI)
    _address_frame(canvas, fonts, study_settings)
    canvas.endForm()
    for batch in batches:
        web = batch.cohort in web_cohorts and bool(public_url)
        back = f"message-{batch.cohort}"
        canvas.setPageSize(HAGAKI)
        canvas.beginForm(back, 0, 0, *HAGAKI)
        _message_side(canvas, fonts, study_settings, web, public_url)
        canvas.endForm()
        for record in batch.records:
            canvas.setPageSize(HAGAKI)
            canvas.doForm("address-frame")
            _address_side(canvas, fonts, record)
            canvas.showPage()
            canvas.setPageSize(HAGAKI)
            canvas.doForm(back)
            canvas.showPage()
            count += 1
    canvas.save()
    return count


def write_postcards(
    path: Path,
    batches: Sequence[Batch],
    layout: LabelLayout | None,
    fonts: FontSet,
    study_settings: dict[str, Any],
    web_cohorts: Sequence[str] = (),
    public_url: str = "",
) -> int:
    if layout is None:
        return write_hagaki(path, batches, fonts, study_settings, web_cohorts, public_url)
    return write_label_sheets(
        path,
        batches,
        layout,
        fonts,
        title="お礼・督促はがき宛名ラベル",
        what="お礼・督促はがき用の宛名ラベル",
    )
