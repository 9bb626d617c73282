"""Access-code slips: the only place plaintext codes ever exist.

A4 sheets of 2 × 2 slips (A6, 105 × 148.5 mm) with cut marks, one slip per envelope. Each carries
the code in a box with what to do with it, the cohort, the study-key fingerprint explained in
one sentence, the office to ask and the crisis lines (a table at 9 pt, numbers never split);
slips of web-enabled cohorts add the web address and a QR code whose URL holds the code in
the fragment only (``#code=``), which browsers never send to a server. Slips are grouped by
cohort (a batch per cohort, behind a header sheet) and shuffled within it, independently of
the labels, so slips and envelopes are paired at random: nothing of the label (its sequence
number) is ever printed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from mailing.blocks import Block, crisis_table, enquiry, qr
from mailing.fonts import FontSet
from mailing.layouts import PAGE_H, PAGE_W
from mailing.pdf import cut_marks, header_sheet, new_canvas
from survey.access_codes import IssuedCode
from survey.codes import display
from survey.cohorts import COHORT_LABELS
from survey.errors import DataError
from survey.public import Contact, crisis_lines
from survey.spreadsheet import writer as csv_writer

COLS, ROWS = 2, 2  # A6: room for the code, the QR code and the crisis lines at 9 pt
SLIP_W, SLIP_H = PAGE_W / COLS, PAGE_H / ROWS
PAD = 6 * mm
INNER = SLIP_W - 2 * PAD
QR_SIZE = 26 * mm
HINT_SIZE = 9.0
WEB_HINT = "紙で回答する場合は、調査票の表紙にこのコードを書いてください。"
PAPER_HINT = "調査票の表紙の所定の欄に、このコードを書いてください。"
WEB_LINE = "スマートフォンやパソコンでも回答できます（QRコードか、次のアドレスから）。"
FINGERPRINT_WEB = (
    "回答画面に出る指紋がこれと同じなら、回答は市だけが開ける鍵で暗号化されて届きます。"
)
FINGERPRINT_PAPER = "調査の鍵の指紋（回答を守る暗号鍵の確認用）"
ANONYMOUS = "このコードとお名前・ご住所を結びつける記録はどこにもありません（無記名の調査です）。"


def code_url(public_url: str, code: str) -> str:
    return f"{public_url.rstrip('/')}/#code={display(code)}"


def fingerprint_block(fonts: FontSet, fingerprint: str, web: bool) -> Block:
    """The study key's fingerprint, explained in one plain sentence."""
    block = Block()
    if web:
        block.line(f"鍵の指紋　{fingerprint}", 8.5)
        block.para(fonts, FINGERPRINT_WEB, 8.0, INNER)
    else:
        block.para(fonts, f"{FINGERPRINT_PAPER}　{fingerprint}", 8.0, INNER)
    return block


def _code_box(
    canvas: Canvas, fonts: FontSet, code: str, web: bool, x: float, top: float, width: float
) -> float:
    """The code in a box, large, with what to do with it; returns the box's bottom."""
    shown = display(code)
    size = fonts.fit(shown, 24, width - 6 * mm, 12)
    hint = fonts.wrap(WEB_HINT if web else PAPER_HINT, HINT_SIZE, width - 6 * mm)
    height = 3.5 * mm + size + 4 + len(hint) * HINT_SIZE * 1.35 + 2.5 * mm
    canvas.saveState()
    canvas.setLineWidth(0.8)
    canvas.roundRect(x, top - height, width, height, 1.5 * mm, stroke=1, fill=0)
    canvas.restoreState()
    y = top - 3.5 * mm - size * 0.85
    fonts.draw(canvas, x + 3 * mm, y, shown, size)
    y -= size * 0.3 + 4
    for line in hint:
        y -= HINT_SIZE * 1.35
        fonts.draw(canvas, x + 3 * mm, y + 2, line, HINT_SIZE)
    return top - height


def _rule(canvas: Canvas, x: float, y: float) -> None:
    canvas.saveState()
    canvas.setLineWidth(0.4)
    canvas.line(x + PAD, y, x + SLIP_W - PAD, y)
    canvas.restoreState()


def _slip(
    canvas: Canvas,
    fonts: FontSet,
    code: IssuedCode,
    x: float,
    y: float,
    web: bool,
    public_url: str,
    fingerprint: str,
    bottom: Block,
) -> None:
    top = y + SLIP_H - PAD
    text_w = INNER - (QR_SIZE + 4 * mm if web else 0)
    title = f"アクセスコード（1回限り）　{COHORT_LABELS[code.cohort]}"
    fonts.draw(canvas, x + PAD, top - 10.5, title, fonts.fit(title, 10.5, text_w, 8.0))
    y_text = _code_box(canvas, fonts, code.code, web, x + PAD, top - 17, text_w)
    if web:
        qr_bottom = top - QR_SIZE
        qr_x = x + SLIP_W - PAD - QR_SIZE
        module = qr(canvas, code_url(public_url, code.code), qr_x, qr_bottom, QR_SIZE)
        lines = Block()
        lines.gap(4)
        lines.para(fonts, WEB_LINE, 9.0, text_w)
        lines.gap(1)
        lines.para(fonts, public_url, 10.5, text_w)
        y_text = lines.draw(canvas, fonts, x + PAD, y_text)
        # The full-width blocks start under the QR code's quiet zone (4 modules): text
        # running under the code makes it unreadable for some phones.
        y_text = min(y_text, qr_bottom - 4 * module)
    y_text = fingerprint_block(fonts, fingerprint, web).draw(canvas, fonts, x + PAD, y_text - 6)
    anonymous = Block()
    anonymous.para(fonts, ANONYMOUS, 9.0, INNER)
    y_text = anonymous.draw(canvas, fonts, x + PAD, y_text - 6)
    foot = y + PAD + bottom.height  # the enquiry line and the crisis lines, at the foot
    if foot + 6 * mm > y_text:
        raise DataError(
            "相談窓口・問い合わせ先が長すぎてコード票に収まりません。"
            "crisis_lines を短くしてください。",
            "The crisis lines and the enquiry line do not fit on a code slip: shorten them.",
        )
    _rule(canvas, x, foot + 3 * mm)
    bottom.draw(canvas, fonts, x + PAD, foot)


def slip_bottom(fonts: FontSet, study_settings: dict[str, Any]) -> Block:
    """What every slip ends with: whom to ask, then the crisis lines (at the slip's foot)."""
    block = enquiry(fonts, Contact.of(study_settings), 9.0, INNER)
    block.add(crisis_table(fonts, crisis_lines(study_settings.get("crisis_lines")), INNER), 6)
    return block


def write_slips(
    path: Path,
    codes: Sequence[IssuedCode],
    fonts: FontSet,
    web_cohorts: Sequence[str],
    public_url: str,
    fingerprint: str,
    study_settings: dict[str, Any],
) -> int:
    canvas = new_canvas(path, "アクセスコード票", fonts)
    bottom = slip_bottom(fonts, study_settings)
    xs = [i * SLIP_W for i in range(1, COLS)]
    ys = [i * SLIP_H for i in range(1, ROWS)]
    per_page = COLS * ROWS
    for cohort in dict.fromkeys(c.cohort for c in codes):
        batch = [c for c in codes if c.cohort == cohort]
        web = cohort in web_cohorts
        header_sheet(
            canvas,
            fonts,
            "アクセスコード票",
            [
                f"対象: {COHORT_LABELS[cohort]}（{cohort}）",
                f"枚数: {len(batch):,} 票（A4 1枚に{per_page}票、{-(-len(batch) // per_page)} 枚）",
                f"回答方法: {'Web または紙' if web else '紙のみ'}",
                "印刷: A4 普通紙、片面。トンボ（切り取り線の印）で切り離してください。",
                "封入: 宛名ラベルとは無関係に、どの封筒に入れても構いません。",
                "この票のコードは平文ではここにしかありません。配布後、残部は消去手続で廃棄してください。",
            ],
            confidential=False,
        )
        for i, code in enumerate(batch):
            slot = i % per_page
            if i and slot == 0:
                canvas.showPage()
            if slot == 0:
                cut_marks(canvas, xs, ys)
            col, row = slot % COLS, slot // COLS
            x, y = col * SLIP_W, PAGE_H - (row + 1) * SLIP_H
            _slip(canvas, fonts, code, x, y, web, public_url, fingerprint, bottom)
        canvas.showPage()
    canvas.save()
    return len(codes)


def write_codes_csv(path: Path, codes: Sequence[IssuedCode]) -> int:
    """For a variable-data printer: cohort and code only, in the slips' order."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv_writer(fh)
        writer.writerow(["cohort", "code"])
        for code in codes:
            writer.writerow([code.cohort, display(code.code)])
    return len(codes)
