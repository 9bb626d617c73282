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

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reportlab.lib.rl_accel import fp_str
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from mailing.blocks import Block, crisis_table, enquiry
from mailing.fonts import FontSet
from mailing.layouts import PAGE_H, PAGE_W
from mailing.pdf import cut_marks, header_sheet, new_canvas
from mailing.qrcodes import QrPattern, draw_modules
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


def _code_size(fonts: FontSet, code: str, width: float) -> float:
    return fonts.fit(display(code), 24, width - 6 * mm, 12)


def _rule(canvas: Canvas, x: float, y: float) -> None:
    canvas.saveState()
    canvas.setLineWidth(0.4)
    canvas.line(x + PAD, y, x + SLIP_W - PAD, y)
    canvas.restoreState()


def _text_width(web: bool) -> float:
    return INNER - (QR_SIZE + 4 * mm if web else 0)


@dataclass(slots=True)
class _Kind:
    """What every slip of a cohort shares, each part drawn once as a form XObject."""

    title: str
    title_size: float
    frame: str  # rule, enquiry and crisis lines: fixed on the slip
    hint: str  # the lines under the code, below the code's baseline
    hint_lines: int
    blocks: list[tuple[str, Block, float]]  # (form, block, gap above) down the slip


def _drawer(canvas: Canvas, fonts: FontSet, block: Block) -> Callable[[], object]:
    return lambda: block.draw(canvas, fonts, 0, 0)


class _Slips:
    """Draws slips. A slip's code size (it is fitted to the box) moves what lies below the
    code box by a fraction of a point from slip to slip, so the constant parts are forms
    placed where the row-by-row layout put them; per slip remain the code box's frame, the
    code, the QR code and the forms' positions."""

    def __init__(
        self,
        canvas: Canvas,
        fonts: FontSet,
        public_url: str,
        fingerprint: str,
        bottom: Block,
        sample_code: str,
    ) -> None:
        self.canvas, self.fonts, self.public_url = canvas, fonts, public_url
        self.fingerprint, self.bottom = fingerprint, bottom
        # The QR mask is chosen once, for the study's URL pattern (any mask is valid): segno's
        # choice for the URL with a code of zeros, so a study's slips always share one mask.
        shown = display(sample_code)
        prefix = code_url(public_url, sample_code)[: -len(shown)]
        self.qr = QrPattern(prefix, "".join("-" if c == "-" else "0" for c in shown))
        self.kinds: dict[tuple[str, bool], _Kind] = {}
        self._forms = 0

    def _form(self, draw: Callable[[], object], height: float) -> str:
        name = f"slip{self._forms}"
        self._forms += 1
        # The bounding box (which clips) holds everything the part draws around its origin.
        box = (-PAD, -height - PAD, SLIP_W, PAD + SLIP_H)
        self.canvas.beginForm(name, *(int(v) - 1 if v < 0 else int(v) + 1 for v in box))
        draw()
        self.canvas.endForm()
        return name

    def _kind(self, cohort: str, web: bool) -> _Kind:
        kind = self.kinds.get((cohort, web))
        if kind is not None:
            return kind
        canvas, fonts = self.canvas, self.fonts
        text_w = _text_width(web)
        title = f"アクセスコード（1回限り）　{COHORT_LABELS[cohort]}"
        foot = PAD + self.bottom.height  # the enquiry line and the crisis lines, at the foot

        def frame() -> None:
            _rule(canvas, 0, foot + 3 * mm)
            self.bottom.draw(canvas, fonts, PAD, foot)

        hint = fonts.wrap(WEB_HINT if web else PAPER_HINT, HINT_SIZE, text_w - 6 * mm)

        def hints() -> None:
            for i, line in enumerate(hint):
                fonts.draw(canvas, 0, 2 - (i + 1) * HINT_SIZE * 1.35, line, HINT_SIZE)

        blocks: list[tuple[Block, float]] = []
        if web:
            lines = Block()
            lines.gap(4)
            lines.para(fonts, WEB_LINE, 9.0, text_w)
            lines.gap(1)
            lines.para(fonts, self.public_url, 10.5, text_w)
            blocks.append((lines, 0.0))
        blocks.append((fingerprint_block(fonts, self.fingerprint, web), 6.0))
        anonymous = Block()
        anonymous.para(fonts, ANONYMOUS, 9.0, INNER)
        blocks.append((anonymous, 6.0))
        kind = _Kind(
            title,
            fonts.fit(title, 10.5, text_w, 8.0),
            self._form(frame, 0.0),
            self._form(hints, len(hint) * HINT_SIZE * 1.35),
            len(hint),
            [(self._form(_drawer(canvas, fonts, b), b.height), b, gap) for b, gap in blocks],
        )
        self.kinds[(cohort, web)] = kind
        return kind

    def _place(self, name: str, x: float, y: float) -> None:
        # A bare q/cm…Q around the form: reportlab's saveState/translate would copy its
        # whole Python-side state for what changes nothing but the PDF's CTM.
        self.canvas.addLiteral(f"q 1 0 0 1 {fp_str(x, y)} cm")
        self.canvas.doForm(name)
        self.canvas.addLiteral("Q")

    def draw(self, code: IssuedCode, x: float, y: float, web: bool) -> None:
        canvas, fonts = self.canvas, self.fonts
        kind = self._kind(code.cohort, web)
        text_w = _text_width(web)
        top = y + SLIP_H - PAD
        # The title is drawn on the page itself: text extraction (pdftotext -layout) then
        # sees the two slips' titles of a row as one line, as before the forms.
        self._place(kind.frame, x, y)
        # The code in a box, large, with what to do with it.
        size = _code_size(fonts, code.code, text_w)
        box_top = top - 17
        height = 3.5 * mm + size + 4 + kind.hint_lines * HINT_SIZE * 1.35 + 2.5 * mm
        canvas.saveState()
        canvas.setLineWidth(0.8)
        canvas.roundRect(x + PAD, box_top - height, text_w, height, 1.5 * mm, stroke=1, fill=0)
        canvas.restoreState()
        baseline = box_top - 3.5 * mm - size * 0.85
        fonts.draw_all(
            canvas,
            [
                (x + PAD, top - 10.5, kind.title, kind.title_size),
                (x + PAD + 3 * mm, baseline, display(code.code), size),
            ],
        )
        self._place(kind.hint, x + PAD + 3 * mm, baseline - size * 0.3 - 4)
        y_text = box_top - height
        for i, (name, block, gap) in enumerate(kind.blocks):
            self._place(name, x + PAD, y_text - gap)
            y_text -= gap + block.height
            if web and i == 0:
                # The full-width blocks start under the QR code's quiet zone (4 modules):
                # text running under the code makes it unreadable for some phones.
                qr = self.qr.modules(code_url(self.public_url, code.code))
                module = draw_modules(
                    canvas, qr, x + SLIP_W - PAD - QR_SIZE, top - QR_SIZE, QR_SIZE
                )
                y_text = min(y_text, top - QR_SIZE - 4 * module)
        if y + PAD + self.bottom.height + 6 * mm > y_text:
            raise DataError(
                "相談窓口・問い合わせ先が長すぎてコード票に収まりません。"
                "crisis_lines を短くしてください。",
                "The crisis lines and the enquiry line do not fit on a code slip: shorten them.",
            )


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
    slips = _Slips(canvas, fonts, public_url, fingerprint, bottom, codes[0].code if codes else "")
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
            slips.draw(code, x, y, web)
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
